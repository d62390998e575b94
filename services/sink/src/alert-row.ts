import type { AlertRecord } from '@kaudit/audit-schema';
import type { AuditRow, SourcePosition } from './audit-row.js';
import { formatMicros, formatMillis } from './format-micros.js';

/** Maps an AlertRecord to an `alerts` row (migrations/clickhouse/0003_create_alerts.sql, 0008 adds follow_up). */
export function toAlertRow(a: AlertRecord, at: SourcePosition): AuditRow {
  return {
    alert_id: a.alertId,
    rule_id: a.ruleId,
    rule_name: a.ruleName,
    severity: a.severity,
    tags: a.tags,
    cluster: a.cluster,
    summary: a.summary,
    count: a.count,
    first_seen: formatMicros(a.firstSeenUs),
    last_seen: formatMicros(a.lastSeenUs),
    actor_id: a.actor.id,
    actor_display_name: a.actor.displayName,
    actor_team: a.actor.team ?? '',
    object_resource: a.objectRef.resource ?? '',
    object_namespace: a.objectRef.namespace ?? '',
    object_name: a.objectRef.name ?? '',
    owner_team: a.ownerTeam ?? '',
    audit_ids: a.auditIDs,
    created_at: formatMicros(a.createdUs),
    // Part of the table's key: a follow-up (same alert_id) is stored next to its first alert, never over it.
    follow_up: a.followUp === true,
    _topic: at.topic,
    _partition: at.partition,
    _offset: at.offset,
    _timestamp: formatMillis(at.timestamp),
  };
}
