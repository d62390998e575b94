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

/**
 * What every title starts with: "LATE by 2h 5m — " for an alert delivered late, "Follow-up — " for
 * a dedup window's follow-up (its first alert was already sent under the same id), or "".
 */
export function titlePrefix(alert: AlertRecord): string {
  return (alert.lateByMs === undefined ? '' : `LATE by ${formatDelay(alert.lateByMs)} — `) + (alert.followUp ? 'Follow-up — ' : '');
}

/** "follow-up to alert `<id>`, first seen <time>" for a follow-up: names the notification it continues. */
export function followUpNote(alert: AlertRecord): string | undefined {
  return alert.followUp ? `follow-up to alert ${alert.alertId}, first seen ${new Date(alert.firstSeenUs / 1000).toISOString()}` : undefined;
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
