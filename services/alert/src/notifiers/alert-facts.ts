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
  ];
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
