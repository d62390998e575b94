export { buildSink, type BuiltSink, type SinkDeps } from './build-sink.js';
export { BatchSink, type BatchSinkDeps } from './batch-sink.js';
export { SinkService } from './sink-service.js';
export { auditEventsTarget, alertsTarget, type SinkTarget } from './sink-target.js';
export { toAuditRow, type AuditRow, type SourcePosition } from './audit-row.js';
export { toAlertRow } from './alert-row.js';
export { formatMicros } from './format-micros.js';
export { loadSinkConfig, sinkConfigSchema, SINK_ENV, type SinkConfig } from './config.js';
