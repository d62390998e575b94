import { describe, expect, it } from 'vitest';
import { RAW_HEADERS, type IncomingRecord } from '@kaudit/kafka';
import { decodeRawRecord, RawDecodeError } from './decode-raw-record.js';

const RECEIVED = '2026-12-01T10:00:00.000Z';
const window = { retentionDays: 365, maxFutureSkewMs: 900_000 };
const MARKER = 'hunter2-do-not-log';

function raw(value: Buffer | string, receivedAt = RECEIVED): IncomingRecord {
  return {
    topic: 'raw',
    partition: 0,
    offset: '7',
    key: Buffer.from('prod-eu'),
    value: Buffer.isBuffer(value) ? value : Buffer.from(value),
    headers: { [RAW_HEADERS.cluster]: Buffer.from('prod-eu'), [RAW_HEADERS.receivedAt]: Buffer.from(receivedAt) },
    timestamp: '0',
  };
}

function event(at: string, stageAt = at): Record<string, unknown> {
  return { level: 'Metadata', auditID: 'a1', stage: 'ResponseComplete', requestURI: '/api/v1/pods', verb: 'list', user: { username: 'alice' }, requestReceivedTimestamp: at, stageTimestamp: stageAt };
}

function failure(record: IncomingRecord): RawDecodeError {
  try {
    decodeRawRecord(record, window);
  } catch (err) {
    if (err instanceof RawDecodeError) return err;
    throw err;
  }
  throw new Error('decoded');
}

describe('decodeRawRecord', () => {
  it('decodes what ingest accepts: an event behind a byte order mark too', () => {
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(event('2026-12-01T09:59:00Z')))]);
    expect(decodeRawRecord(raw(bom), window).event.auditID).toBe('a1');
  });

  it('takes the cluster from the header, or without one from the key of either layout (cluster, cluster/user)', () => {
    const record = raw(JSON.stringify(event('2026-12-01T09:59:00Z')));
    expect(decodeRawRecord({ ...record, key: Buffer.from('other/alice') }, window).meta.cluster).toBe('prod-eu');
    const { [RAW_HEADERS.cluster]: _cluster, ...withoutCluster } = record.headers;
    expect(decodeRawRecord({ ...record, headers: withoutCluster, key: Buffer.from('prod-us/system:node:ip-10-0-0-1') }, window).meta.cluster).toBe('prod-us');
    expect(decodeRawRecord({ ...record, headers: withoutCluster, key: Buffer.from('prod-us') }, window).meta.cluster).toBe('prod-us');
  });

  it('hands on the event times it checked, in µs, so they are not parsed twice', () => {
    const { meta } = decodeRawRecord(raw(JSON.stringify(event('2026-12-01T09:59:00.123456Z', '2026-12-01T09:59:00.5Z'))), window);
    expect(meta.requestReceivedUs).toBe(Date.parse('2026-12-01T09:59:00.123Z') * 1000 + 456);
    expect(meta.stageUs).toBe(Date.parse('2026-12-01T09:59:00.500Z') * 1000);
  });

  it('names where the JSON breaks without quoting the value', () => {
    const err = failure(raw(`{"auditID":"a1","token": ${MARKER}}`));
    expect(err.stage).toBe('parse-json');
    expect(err.message).toMatch(/position 25/);
    expect(err.message).not.toContain(MARKER);
    expect(String((err as Error & { cause?: unknown }).cause ?? '')).not.toContain(MARKER);
  });

  it('refuses invalid UTF-8 instead of storing U+FFFD', () => {
    expect(failure(raw(Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d]))).stage).toBe('parse-json');
  });

  it.each([
    ['a calendar-invalid time', event('2024-13-45T25:61:61Z'), /month 13/],
    ['a year-3000 stage time', event('2026-12-01T09:59:00Z', '3000-01-01T00:00:00Z'), /ahead of the receiving clock/],
    ['a time the TTL would delete on arrival', event('2025-11-01T00:00:00Z'), /KAUDIT_RETENTION_DAYS=365/],
  ])('refuses %s by the same rule as ingest, relative to when ingest received it', (_name, value, why) => {
    const err = failure(raw(JSON.stringify(value)));
    expect(err.stage).toBe('validate-event');
    expect(err.message).toMatch(why);
  });

  it('judges the time window by the received-at header, not by its own clock (a replay a year later still decodes)', () => {
    const record = raw(JSON.stringify(event('2025-12-15T00:00:00Z')), '2026-01-01T00:00:00.000Z');
    expect(decodeRawRecord(record, window).event.auditID).toBe('a1');
  });
});
