import type { AuditRecord } from '@kaudit/audit-schema';
import { formatMicros, formatMillis } from './format-micros.js';

/** Where a row came from in Kafka; stored with it so the sink can tell what is already in ClickHouse. */
export interface SourcePosition {
  topic: string;
  partition: number;
  offset: string;
  /** The record's Kafka timestamp (ms since epoch): with the offset it names the record, even after a topic is recreated. */
  timestamp: string;
}

/** One `audit_events` row, column names as in migrations/clickhouse/0001_create_audit_events.sql. */
export type AuditRow = Record<string, string | number | boolean | string[] | Record<string, string>>;

const text = (v: string | null): string => v ?? '';

/**
 * Maps the canonical record to an `audit_events` row. Nulls become '' / 0 (the schema avoids Nullable;
 * see the migration), except the impersonated user, whose absence is kept in `impersonated`.
 */
export function toAuditRow(r: AuditRecord, at: SourcePosition): AuditRow {
  const imp = r.impersonatedUser;
  return {
    cluster: r.cluster,
    provider: r.provider,
    audit_id: r.auditID,
    stage: r.stage,
    level: r.level,
    event_time: formatMicros(r.requestReceivedUs),
    stage_time: formatMicros(r.stageUs),
    ingested_at: formatMicros(r.ingestedUs),
    latency_ms: r.latencyMs,
    verb: r.verb,
    request_uri: r.requestURI,
    object_api_group: text(r.objectRef.apiGroup),
    object_api_version: text(r.objectRef.apiVersion),
    object_resource: text(r.objectRef.resource),
    object_subresource: text(r.objectRef.subresource),
    object_namespace: text(r.objectRef.namespace),
    object_name: text(r.objectRef.name),
    object_uid: text(r.objectRef.uid),
    // Passed through unchecked: a code outside UInt16 is bad data ClickHouse rejects, and then dead-lettered.
    response_code: r.response.code ?? 0,
    response_status: text(r.response.status),
    response_reason: text(r.response.reason),
    response_message: text(r.response.message),
    authz_decision: text(r.authorization.decision),
    authz_reason: text(r.authorization.reason),
    annotations: r.annotations,
    user_name: text(r.user.username),
    user_uid: text(r.user.uid),
    user_groups: r.user.groups,
    user_extra: r.user.extra,
    impersonated: imp !== null,
    impersonated_user_name: text(imp?.username ?? null),
    impersonated_user_uid: text(imp?.uid ?? null),
    impersonated_user_groups: imp?.groups ?? [],
    impersonated_user_extra: imp?.extra ?? {},
    source_ips: r.sourceIPs,
    user_agent: text(r.userAgent),
    client_name: text(r.client.name),
    client_version: text(r.client.version),
    actor_id: r.actor.id,
    actor_kind: r.actor.kind,
    actor_display_name: r.actor.displayName,
    actor_email: text(r.actor.email),
    actor_team: text(r.actor.team),
    actor_account: text(r.actor.account),
    actor_resolved_by: r.actor.resolvedBy,
    owner_team: text(r.ownerTeam),
    operation: r.operation,
    sec_privileged: r.security.privileged,
    sec_host_network: r.security.hostNetwork,
    sec_host_pid: r.security.hostPID,
    sec_host_ipc: r.security.hostIPC,
    sec_host_paths: r.security.hostPaths,
    sec_added_capabilities: r.security.addedCapabilities,
    sec_images: r.security.images,
    sec_cluster_admin_binding: r.security.clusterAdminBinding,
    sec_wildcard_role: r.security.wildcardRole,
    sec_pod_exec_role: r.security.podExecRole,
    sec_credential_like_keys: r.security.credentialLikeKeys,
    request_object: text(r.requestObject),
    response_object: text(r.responseObject),
    truncated: r.truncated,
    summary: text(r.summary),
    _topic: at.topic,
    _partition: at.partition,
    _offset: at.offset,
    _timestamp: formatMillis(at.timestamp),
  };
}
