/**
 * What the ingest bench sends and what ingest makes of it, shared by the bench (bench/ingest.ts) and its raw
 * baseline's server process (bench/ingest-raw-server.ts), so both sides hold exactly the same bodies and records.
 */
import { buildRawRecords, sampleAuditEvent, sampleEventList } from '@kaudit/ingest';
import { loadEventWindow } from '@kaudit/config';

export const BATCH = 400;
export const CLUSTERS = ['bench-a', 'bench-b', 'bench-c', 'bench-d', 'bench-e'] as const;
/** Distinct batches reused round-robin: ingest does not deduplicate, so reuse does not flatter it. */
export const DISTINCT_BATCHES = 16;
/** The request header naming which of the distinct bodies a POST carries (the raw baseline's only way to know it: it parses nothing). */
export const BODY_HEADER = 'x-bench-body';

export interface RawRecord {
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

/** The bench's batches of events (deterministic: the same in every process), and their webhook bodies. */
export function benchBatches(): { batches: Record<string, unknown>[][]; bodies: Buffer[] } {
  const batches = Array.from({ length: DISTINCT_BATCHES }, (_, b) => Array.from({ length: BATCH }, (_, i) => sampleAuditEvent(b * BATCH + i)));
  return { batches, bodies: batches.map((events) => Buffer.from(JSON.stringify(sampleEventList(events)))) };
}

/**
 * The raw.v2 records ingest publishes for one batch of one cluster: made by ingest's own builder (buildRawRecords:
 * one user's events of a body in as few records as the limits allow), so the baseline sends exactly those bytes.
 */
export function rawRecordsOf(events: readonly Record<string, unknown>[], cluster: string): RawRecord[] {
  // sampleAuditEvent's times are fixed (2026-11-22): the window the ingest service is given (KAUDIT_RETENTION_DAYS).
  const window = loadEventWindow({ KAUDIT_RETENTION_DAYS: '3650' }, 'bench ingest');
  const built = buildRawRecords(events, { cluster, receivedAt: new Date(), source: 'webhook', instance: 'bench', maxEventBytes: 256 * 1024, window });
  if (built.rejected.length > 0) throw new Error(`bench events refused: ${built.rejected[0]?.reason}`);
  return built.records.map((r) => ({ key: String(r.key), value: r.value as Buffer, headers: r.headers as Record<string, string> }));
}
