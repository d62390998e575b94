import type { AlertRecord } from '@kaudit/audit-schema';
import { titlePrefix, truncate } from '../alert-facts.js';

const SEVERITY: Record<AlertRecord['severity'], 'critical' | 'error' | 'warning' | 'info'> = {
  critical: 'critical',
  high: 'error',
  medium: 'warning',
  low: 'info',
  info: 'info',
};

/**
 * An Events API v2 trigger (https://developer.pagerduty.com/docs/events-api-v2/trigger-events/).
 * `dedup_key` is the deterministic alert id, so a re-sent alert updates the same incident.
 */
export function pagerdutyPayload(alert: AlertRecord, routingKey: string) {
  return {
    routing_key: routingKey,
    event_action: 'trigger' as const,
    dedup_key: alert.alertId,
    payload: {
      summary: truncate(`${titlePrefix(alert)}${alert.ruleName}: ${alert.summary}`, 1024),
      source: alert.cluster,
      severity: SEVERITY[alert.severity],
      timestamp: new Date(alert.firstSeenUs / 1000).toISOString(),
      component: alert.objectRef.resource ?? undefined,
      group: alert.ownerTeam ?? undefined,
      class: alert.ruleId,
      custom_details: {
        actor: alert.actor,
        object: alert.objectRef,
        count: alert.count,
        tags: alert.tags,
        auditIDs: alert.auditIDs,
        ...(alert.lateByMs === undefined ? {} : { lateByMs: alert.lateByMs }),
        ...(alert.followUp ? { followUp: true } : {}),
      },
    },
  };
}
