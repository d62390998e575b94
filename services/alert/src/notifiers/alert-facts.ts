import type { AlertRecord } from '@kaudit/audit-schema';

/** The facts every notifier shows, in one order, so all destinations tell the same story. */
export function alertFacts(alert: AlertRecord): { title: string; value: string }[] {
  const object = [alert.objectRef.resource, alert.objectRef.namespace && `ns ${alert.objectRef.namespace}`, alert.objectRef.name]
    .filter((v): v is string => typeof v === 'string' && v !== '')
    .join(' · ');
  return [
    { title: 'Cluster', value: alert.cluster },
    { title: 'Actor', value: `${alert.actor.displayName} (${alert.actor.id})` },
    { title: 'Object', value: object || '—' },
    { title: 'Team', value: alert.ownerTeam ?? alert.actor.team ?? '—' },
    { title: 'Count', value: alert.count.toLocaleString('en-US') },
    { title: 'First seen', value: new Date(alert.firstSeenUs / 1000).toISOString() },
    ...(alert.lateByMs === undefined ? [] : [{ title: 'Delivered late', value: `by ${formatDelay(alert.lateByMs)}` }]),
  ];
}

/** "2h 5m", "3d 4h", "45m", "30s": how late a delivery is, at the precision a person reads. */
export function formatDelay(ms: number): string {
  const s = Math.floor(ms / 1000);
  const [d, h, m] = [Math.floor(s / 86_400), Math.floor((s % 86_400) / 3600), Math.floor((s % 3600) / 60)];
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  return m > 0 ? `${m}m` : `${s}s`;
}

/** "LATE by 2h 5m — " for an alert delivered late, "" otherwise: what every title starts with. */
export function latePrefix(alert: AlertRecord): string {
  return alert.lateByMs === undefined ? '' : `LATE by ${formatDelay(alert.lateByMs)} — `;
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
