import { alertRecordSchema, AuditRecordCodec, SCHEMA_FINGERPRINT_HEADER } from '@kaudit/audit-schema';
import { KauditError } from '@kaudit/errors';
import { headerString, splitEnrichedRecord, type IncomingRecord } from '@kaudit/kafka';
import { toAlertRow } from './alert-row.js';
import { toAuditRow, type AuditRow } from './audit-row.js';
import type { SinkItem } from './records-not-stored.js';

/** What the sink does with one topic: which table its records go to and how a record becomes a row. */
export interface SinkTarget {
  table: string;
  /** Pure; throws INPUT_INVALID for a record that can never become a row (it is dead-lettered). */
  toRow(record: IncomingRecord): AuditRow;
  /** A record as the items that each become one row, in order; a frame that cannot be cut is refused whole. */
  items(record: IncomingRecord): { ok: true; items: SinkItem[] } | { ok: false; reason: string };
  /**
   * What tells two rows of one record apart: a SQL expression over the table's columns and the same of a row. Asked
   * only of records stored in part (an enriched.v2 record of which some rows landed).
   */
  identity?: { sql: string; of(row: AuditRow): string };
}

/** Each record is one item (one row). */
function oneItem(record: IncomingRecord): { ok: true; items: SinkItem[] } {
  return { ok: true, items: [record] };
}

function position(record: IncomingRecord) {
  return { topic: record.topic, partition: record.partition, offset: record.offset, timestamp: record.timestamp };
}

/**
 * `kaudit.audit.enriched.v2` and `.v1`: Avro AuditRecords → `audit_events`, one row per event; the layouts are told
 * apart by the value's magic (splitEnrichedRecord), never by the topic name.
 */
export function auditEventsTarget(codec: AuditRecordCodec = new AuditRecordCodec()): SinkTarget {
  return {
    table: 'audit_events',
    toRow(record) {
      if (record.value === null) throw new KauditError('INPUT_INVALID', 'record has no value (tombstone)');
      const decoded = codec.decode(record.value, headerString(record.headers, SCHEMA_FINGERPRINT_HEADER));
      return toAuditRow(decoded, position(record));
    },
    items(record) {
      const split = splitEnrichedRecord(record);
      if (!split.ok) return split;
      if (split.layout === 'v1') return { ok: true, items: split.events };
      const eventCount = split.events.length;
      // The split's events are fresh objects: given their place in the record as they are, not copied again.
      return { ok: true, items: split.events.map((e, eventIndex): SinkItem => Object.assign(e, { eventIndex, eventCount })) };
    },
    // The event's identity in the table (with the cluster, which one record's events share: it is in their key).
    identity: { sql: "concat(audit_id, '/', stage)", of: (row) => `${String(row.audit_id)}/${String(row.stage)}` },
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
    items: oneItem,
  };
}
