import { alertRecordSchema, AuditRecordCodec, SCHEMA_FINGERPRINT_HEADER } from '@kaudit/audit-schema';
import { KauditError } from '@kaudit/errors';
import { headerString, type IncomingRecord } from '@kaudit/kafka';
import { toAlertRow } from './alert-row.js';
import { toAuditRow, type AuditRow } from './audit-row.js';

/** What the sink does with one topic: which table its records go to and how a record becomes a row. */
export interface SinkTarget {
  table: string;
  /** Pure; throws INPUT_INVALID for a record that can never become a row (it is dead-lettered). */
  toRow(record: IncomingRecord): AuditRow;
}

function position(record: IncomingRecord) {
  return { topic: record.topic, partition: record.partition, offset: record.offset, timestamp: record.timestamp };
}

/** `kaudit.audit.enriched.v1`: Avro AuditRecords → `audit_events`. */
export function auditEventsTarget(codec: AuditRecordCodec = new AuditRecordCodec()): SinkTarget {
  return {
    table: 'audit_events',
    toRow(record) {
      if (record.value === null) throw new KauditError('INPUT_INVALID', 'record has no value (tombstone)');
      const decoded = codec.decode(record.value, headerString(record.headers, SCHEMA_FINGERPRINT_HEADER));
      return toAuditRow(decoded, position(record));
    },
  };
}

/** `kaudit.alerts.v1`: AlertRecord JSON → `alerts`. */
export function alertsTarget(): SinkTarget {
  return {
    table: 'alerts',
    toRow(record) {
      if (record.value === null) throw new KauditError('INPUT_INVALID', 'record has no value (tombstone)');
      let json: unknown;
      try {
        json = JSON.parse(record.value.toString('utf8'));
      } catch (cause) {
        throw new KauditError('INPUT_INVALID', `alert is not JSON: ${(cause as Error).message}`, { cause });
      }
      const parsed = alertRecordSchema.safeParse(json);
      if (!parsed.success) {
        throw new KauditError('INPUT_INVALID', `alert failed validation: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      }
      return toAlertRow(parsed.data, position(record));
    },
  };
}
