import type { AlertRecord } from '@kaudit/audit-schema';
import { formatDelay, titlePrefix, truncate } from '../alert-facts.js';
import type { OpsgenieConfig } from './config.js';

const PRIORITY: Record<AlertRecord['severity'], 'P1' | 'P2' | 'P3' | 'P4' | 'P5'> = { critical: 'P1', high: 'P2', medium: 'P3', low: 'P4', info: 'P5' };

/**
 * A create-alert request (https://docs.opsgenie.com/docs/alert-api#create-alert): message ≤ 130
 * chars, alias ≤ 512 (the deterministic alert id: Opsgenie folds an open alert with the same alias),
 * description ≤ 15000, details values are strings.
 */
export function opsgeniePayload(alert: AlertRecord, responders: OpsgenieConfig['responders']) {
  return {
    message: truncate(`${titlePrefix(alert)}${alert.ruleName}: ${alert.summary}`, 130),
    alias: alert.alertId,
    description: truncate(alert.summary, 15_000),
    responders: responders.map((r) => ({ type: r.type, name: r.name })),
    tags: alert.tags.slice(0, 20),
    details: {
      cluster: alert.cluster,
      actor: alert.actor.displayName,
      actorId: alert.actor.id,
      resource: alert.objectRef.resource ?? '',
      namespace: alert.objectRef.namespace ?? '',
      name: alert.objectRef.name ?? '',
      count: String(alert.count),
      ruleId: alert.ruleId,
      ...(alert.lateByMs === undefined ? {} : { lateBy: formatDelay(alert.lateByMs), lateByMs: String(alert.lateByMs) }),
      ...(alert.followUp ? { followUp: 'true' } : {}),
    },
    entity: alert.cluster,
    source: 'kaudit',
    priority: PRIORITY[alert.severity],
  };
}
