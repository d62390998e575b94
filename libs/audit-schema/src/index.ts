export {
  auditEventSchema,
  auditEventListSchema,
  userInfoSchema,
  objectReferenceSchema,
  responseStatusSchema,
  describeIssues,
  AUDIT_API_VERSIONS,
  AUDIT_STAGES,
  AUDIT_LEVELS,
  type AuditEvent,
  type AuditEventList,
} from './k8s-audit-event.js';
export {
  auditRecordSchema,
  userSchema,
  emptySecurityFacts,
  PROVIDERS,
  PROVIDER_ANNOTATION,
  ACTOR_KINDS,
  OPERATION_CLASSES,
  type AuditRecord,
  type Provider,
  type ActorKind,
  type OperationClass,
} from './audit-record.js';
export { AuditRecordCodec, SCHEMA_FINGERPRINT_HEADER } from './audit-record-codec.js';
export { sampleAuditRecord } from './sample-audit-record.js';
export { alertRecordSchema, SEVERITIES, type AlertRecord, type Severity } from './alert-record.js';
export { decodeJson, describeJsonSyntaxError, withoutBom, type DecodedJson, type JsonProblem } from './decode-json.js';
export { parseRfc3339, type ParsedTimestamp } from './parse-rfc3339.js';
export {
  checkAuditEvent,
  acceptedTimeRange,
  RETENTION_HEADROOM_MS,
  type CheckedAuditEvent,
  type EventCheckRules,
  type EventProblem,
  type EventTimeWindow,
} from './check-audit-event.js';
