import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isKauditError } from '@kaudit/errors';
import { PROVIDER_ANNOTATION } from '@kaudit/audit-schema';
import { DLQ_HEADERS, RAW_HEADERS, headerString, type IncomingRecord } from '@kaudit/kafka';
import { consumeAll, consumeRawEvents, testEndpoints, uniqueName } from '@kaudit/testkit';
import { sampleAuditEvent, sampleEventList } from '../fixtures/sample-audit-event.js';
import { startIngest, type RunningIngest } from '../test-support/ingest-harness.js';
import { createIngestPipeline } from '../create-ingest-pipeline.js';
import { rawRecordKey } from '../publish/build-raw-records.js';
import { importAuditStream } from './import-audit-stream.js';
import type { ImportFormat } from './normalize-import-record.js';

type Json = Record<string, unknown>;
let ingest: RunningIngest;
const dir = mkdtempSync(join(tmpdir(), 'kaudit-import-'));
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

beforeAll(async () => {
  ingest = await startIngest({ brokers: testEndpoints().kafkaBrokers });
});
afterAll(async () => {
  await ingest?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const run = (input: AsyncIterable<Buffer | string>, format: ImportFormat, cluster = 'prod-eu') => importAuditStream({ input, format, cluster, pipeline: ingest.service.pipeline, batchEvents: 200 });
const textOf = (s: string) => Readable.from([Buffer.from(s)]);

/** How a Cloud Logging export represents a Kubernetes audit event (what the GKE normaliser inverts). */
function toGkeEntry(e: Json): Json {
  const ref = e.objectRef as Json;
  const group = (ref.apiGroup as string | undefined) || 'core';
  const resourceName = [group, ref.apiVersion, 'namespaces', ref.namespace, ref.resource, ref.name].join('/');
  return {
    protoPayload: {
      '@type': 'type.googleapis.com/google.cloud.audit.AuditLog',
      authenticationInfo: { principalEmail: (e.user as Json).username },
      methodName: `io.k8s.${group}.${String(ref.apiVersion)}.${String(ref.resource)}.${String(e.verb)}`,
      requestMetadata: { callerIp: (e.sourceIPs as string[])[0], callerSuppliedUserAgent: e.userAgent },
      resourceName,
      serviceName: 'k8s.io',
      status: {},
      request: e.requestObject,
      response: e.responseObject,
    },
    insertId: `insert-${String(e.auditID)}`,
    resource: { type: 'k8s_cluster', labels: { cluster_name: 'gke-prod' } },
    timestamp: e.stageTimestamp,
    operation: { id: e.auditID, producer: 'k8s.io', first: true, last: true },
    labels: e.annotations,
  };
}

/** The fields every format carries: what "normalized-equivalent" means across sources. */
function view(e: Json): Json {
  const ref = (e.objectRef ?? {}) as Json;
  return {
    auditID: e.auditID,
    verb: e.verb,
    username: (e.user as Json).username,
    sourceIPs: e.sourceIPs,
    objectRef: { resource: ref.resource, namespace: ref.namespace, name: ref.name, apiGroup: ref.apiGroup || '', apiVersion: ref.apiVersion },
    code: (e.responseStatus as Json | undefined)?.code,
    path: String(e.requestURI).split('?')[0],
    stageTimestamp: e.stageTimestamp,
    annotations: withoutProvider(e).annotations,
  };
}

/** The event without the provider annotation a cloud format adds (checked on its own). */
function withoutProvider(e: Json): Json {
  const { [PROVIDER_ANNOTATION]: _provider, ...annotations } = (e.annotations ?? {}) as Json;
  return { ...e, annotations };
}

const eventsByFormat = (base: number) => Array.from({ length: 30 }, (_, i) => sampleAuditEvent(base + i));
const SOURCES: { format: ImportFormat; base: number; render: (events: Json[]) => string; lossless: boolean; provider?: string }[] = [
  { format: 'jsonl', base: 10_000, lossless: true, render: (ev) => ev.map((e) => JSON.stringify(e)).join('\n') },
  { format: 'eventlist', base: 20_000, lossless: true, render: (ev) => JSON.stringify(sampleEventList(ev), null, 2) },
  { format: 'eks', base: 30_000, lossless: true, provider: 'eks', render: (ev) => ev.map((e, i) => JSON.stringify({ timestamp: 1763632800000 + i, message: JSON.stringify(e), logStreamName: 'kube-apiserver-audit-1' })).join('\n') },
  { format: 'aks', base: 40_000, lossless: true, provider: 'aks', render: (ev) => ev.map((e, i) => JSON.stringify({ category: 'kube-audit', properties: { log: i % 2 === 0 ? `${JSON.stringify(e)}\n` : e, stream: 'stdout' } })).join('\n') },
  { format: 'gke', base: 50_000, lossless: false, provider: 'gke', render: (ev) => ev.map((e) => JSON.stringify(toGkeEntry(e))).join('\n') },
];

async function rawEvents(): Promise<{ records: IncomingRecord[]; byId: Map<string, Json> }> {
  const records = await consumeRawEvents(ingest.kafka, ingest.rawTopic, 60_000);
  const byId = new Map<string, Json>();
  for (const r of records) {
    const e = JSON.parse(String(r.value)) as Json;
    byId.set(String(e.auditID), e);
  }
  return { records, byId };
}

describe('kaudit import (importAuditStream)', () => {
  it('every format ends up normalized-equivalent on the raw topic, with --format auto and explicit', async () => {
    for (const source of SOURCES) {
      const events = eventsByFormat(source.base);
      const text = source.render(events);
      const auto = await run(textOf(text), 'auto');
      expect(auto, source.format).toMatchObject({ accepted: 30, rejected: 0, failedRecords: 0 });
      const explicit = await run(textOf(text), source.format);
      expect(explicit, source.format).toMatchObject({ accepted: 30, failedRecords: 0 });
    }
    const { records, byId } = await rawEvents();
    for (const source of SOURCES) {
      for (const original of eventsByFormat(source.base)) {
        const landed = byId.get(String(original.auditID));
        expect(landed, `${source.format} ${String(original.auditID)}`).toBeDefined();
        expect(view(landed as Json)).toEqual(view(original));
        // Besides the provider the format implies, nothing is added or lost.
        expect((landed as Json).annotations ?? {}).toMatchObject(source.provider !== undefined ? { [PROVIDER_ANNOTATION]: source.provider } : {});
        if (source.provider === undefined) expect((landed as Json).annotations ?? {}).not.toHaveProperty([PROVIDER_ANNOTATION]);
        if (source.lossless) expect(source.provider !== undefined ? withoutProvider(landed as Json) : landed).toEqual(source.provider !== undefined ? withoutProvider(original) : original);
      }
    }
    for (const r of records) expect(headerString(r.headers, RAW_HEADERS.source)).toBe('import');
  });

  it('imports the hand-written export fixtures, dead-lettering and counting the bad lines', async () => {
    const dlqBefore = await ingest.count(ingest.dlqTopic);
    const expected: Record<string, { accepted: number; failedRecords: number }> = {
      'apiserver-audit.log': { accepted: 2, failedRecords: 2 },
      'eks-cloudwatch.jsonl': { accepted: 3, failedRecords: 0 },
      'aks-diagnostic.jsonl': { accepted: 2, failedRecords: 0 },
      'gke-cloud-logging.jsonl': { accepted: 3, failedRecords: 0 },
      'eventlist.json': { accepted: 2, failedRecords: 0 },
    };
    for (const [name, want] of Object.entries(expected)) {
      const summary = await run(createReadStream(fixture(name)), 'auto', 'prod-us');
      expect(summary, name).toMatchObject(want);
    }
    // The cut line and the event without auditID: both kept in the DLQ.
    expect(await ingest.count(ingest.dlqTopic)).toBe(dlqBefore + 2);
  });

  it('refuses Cloud Logging entries of other Google services, counting and dead-lettering them with the service named (issue 15 §3)', async () => {
    const dlqBefore = await ingest.count(ingest.dlqTopic);
    const k8s = toGkeEntry(sampleAuditEvent(60_000));
    const billing = { ...k8s, protoPayload: { ...(k8s.protoPayload as Json), serviceName: 'cloudbilling.googleapis.com', methodName: 'google.cloud.billing.v1.CloudBilling.GetBillingAccount', resourceName: 'billingAccounts/0000-1111' } };
    const summary = await run(textOf([k8s, billing].map((e) => JSON.stringify(e)).join('\n')), 'auto');
    expect(summary).toMatchObject({ accepted: 1, failedRecords: 1, failures: [{ record: 2, reason: expect.stringContaining('cloudbilling.googleapis.com') as unknown }] });
    expect(await ingest.count(ingest.dlqTopic)).toBe(dlqBefore + 1);
  });

  it('stops on a broken JSON document with a message saying where and what to do', async () => {
    const err = await run(textOf('{"kind":"EventList","apiVersion":"audit.k8s.io/v1",\n"items":[{"auditID":"x"},{"oops"'), 'auto').catch((e: unknown) => e);
    expect(isKauditError(err, 'INPUT_INVALID')).toBe(true);
    expect((err as Error).message).toContain('--format jsonl');
  });

  it('streams multi-megabyte files (JSON lines and a pretty-printed EventList) with bounded batches', async () => {
    const linesFile = join(dir, 'big.log');
    const out = createWriteStream(linesFile);
    const n = 4000;
    for (let i = 0; i < n; i++) out.write(`${JSON.stringify(sampleAuditEvent(100_000 + i))}\n`);
    out.end();
    await finished(out);
    const listFile = join(dir, 'big-eventlist.json');
    writeFileSync(listFile, JSON.stringify(sampleEventList(Array.from({ length: 2000 }, (_, i) => sampleAuditEvent(200_000 + i))), null, 2));
    const before = await ingest.countEvents(ingest.rawTopic);
    let progressCalls = 0;
    const lines = await importAuditStream({ input: createReadStream(linesFile), format: 'auto', cluster: 'prod-eu', pipeline: ingest.service.pipeline, onProgress: () => progressCalls++ });
    expect(lines).toMatchObject({ mode: 'lines', records: n, accepted: n, failedRecords: 0 });
    expect(lines.bytes).toBeGreaterThan(5 * 1024 * 1024);
    expect(progressCalls).toBeGreaterThan(4);
    const list = await run(createReadStream(listFile), 'auto');
    expect(list).toMatchObject({ mode: 'document', records: 2000, accepted: 2000, failedRecords: 0 });
    expect(await ingest.countEvents(ingest.rawTopic)).toBe(before + n + 2000);
  });

  it('loses no line: every event of the file is on the raw topic once, byte for byte, across chunk boundaries and a last line without a newline', async () => {
    // Lines of varied size, CRLF and blank lines, a bad line, cut into small chunks (many chunk boundaries, several
    // chunks being checked and published at once) with the last line unterminated: what the chunking must not drop.
    const events = Array.from({ length: 1500 }, (_, i) => sampleAuditEvent(300_000 + i, { user: { username: `user-${i % 5}` }, ...(i % 7 === 0 ? { annotations: { note: 'x'.repeat(i % 500) } } : {}) }));
    const lines = events.map((e) => JSON.stringify(e));
    const text = `${lines.slice(0, 700).join('\n')}\n\n${lines.slice(700, 1000).join('\r\n')}\r\n{"kind":"Event"\n   \n${lines.slice(1000).join('\n')}`;
    const rawBefore = await ingest.countEvents(ingest.rawTopic);
    const dlqBefore = await ingest.count(ingest.dlqTopic);
    const bytes = Buffer.from(text);
    const pieces = Array.from({ length: Math.ceil(bytes.length / 3000) }, (_, i) => bytes.subarray(i * 3000, (i + 1) * 3000));
    const summary = await importAuditStream({ input: Readable.from(pieces), format: 'auto', cluster: 'prod-eu', pipeline: ingest.service.pipeline, chunkBytes: 16 * 1024 });
    expect(summary).toMatchObject({ mode: 'lines', records: 1501, events: 1500, accepted: 1500, failedRecords: 1, failures: [{ record: 1001 }] });
    // The summary's count is the topic's: nothing acknowledged that is not there, nothing there that is not counted.
    expect(await ingest.countEvents(ingest.rawTopic)).toBe(rawBefore + summary.accepted);
    expect(await ingest.count(ingest.dlqTopic)).toBe(dlqBefore + 1);
    const { records } = await rawEvents();
    const landed = new Map(records.map((r) => [String((JSON.parse(String(r.value)) as Json).auditID), String(r.value)]));
    const missing = events.filter((e) => !landed.has(String(e.auditID))).map((e) => e.auditID);
    expect(missing).toEqual([]);
    // An apiserver line is published as its own bytes.
    events.forEach((e, i) => expect(landed.get(String(e.auditID))).toBe(lines[i]));
    // Keyed as the webhook keys them (cluster/user), so one big cluster's backfill spreads too.
    const ids = new Set(events.map((e) => String(e.auditID)));
    const mine = records.map((r) => ({ key: String(r.key), event: JSON.parse(String(r.value)) as Json })).filter((r) => ids.has(String(r.event.auditID)));
    expect(mine.filter((r) => r.key !== rawRecordKey('prod-eu', String((r.event.user as Json).username)))).toEqual([]);
    expect(new Set(mine.map((r) => r.key)).size).toBe(5);
  });

  it('publishes the same records, byte for byte, whether the lines are checked on worker threads or on the event loop', async () => {
    // What the fast path (worker threads reading a shared copy of each chunk) publishes must be what the plain
    // path publishes: keys, values, headers, partitions and dead letters, in order. The file mixes the hand-written
    // fixtures with refused, truncated and unreadable lines, CRLF, many users and many chunks.
    const now = Date.parse('2026-12-01T10:00:00Z');
    const generated = Array.from({ length: 600 }, (_, i) =>
      JSON.stringify(
        sampleAuditEvent(700_000 + i, {
          user: { username: `user-${i % 17}` },
          ...(i % 50 === 3 ? { responseObject: { data: 'x'.repeat(40_000) } } : {}),
          ...(i % 97 === 5 ? { stage: 'Bogus' } : {}),
        }),
      ),
    );
    const fixtures = ['apiserver-audit.log', 'eks-cloudwatch.jsonl', 'aks-diagnostic.jsonl', 'gke-cloud-logging.jsonl'].map((name) => readFileSync(fixture(name), 'utf8').trimEnd());
    const text = [...fixtures, generated.slice(0, 300).join('\r\n'), '{"kind":"Event", not json', generated.slice(300).join('\n')].join('\n');
    const importWith = async (parseThreads: number) => {
      const rawTopic = uniqueName('raw_paths');
      const dlqTopic = uniqueName('dlq_paths');
      await ingest.admin.ensureTopics([
        { topic: rawTopic, partitions: 6 },
        { topic: dlqTopic, partitions: 1 },
      ]);
      const producer = ingest.kafka.producer();
      await producer.start();
      try {
        const pipeline = createIngestPipeline({ producer, instance: 'import-test', maxEventBytes: 32 * 1024, window: { retentionDays: 365, maxFutureSkewMs: 15 * 60_000 }, rawTopic, dlqTopic });
        const summary = await importAuditStream({ input: textOf(text), format: 'auto', cluster: 'prod-eu', pipeline, now: () => new Date(now), chunkBytes: 64 * 1024, parseThreads });
        const shape = (r: IncomingRecord) => ({
          partition: r.partition,
          offset: r.offset,
          key: r.key?.toString('hex'),
          value: r.value?.toString('hex'),
          // Every header but when the DLQ writer wrote it (its own clock).
          headers: Object.fromEntries(Object.entries(r.headers).flatMap(([k, v]) => (k === DLQ_HEADERS.at ? [] : [[k, v.toString('hex')]]))),
        });
        const order = (a: IncomingRecord, b: IncomingRecord) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset));
        // Events (a raw.v2 record holds many), each with its record's position: the same records, cut the same way.
        const raw = (await consumeRawEvents(ingest.kafka, rawTopic, 60_000)).sort(order).map(shape);
        expect(raw).toHaveLength(summary.accepted);
        const dlq = (await consumeAll(ingest.kafka, dlqTopic, summary.failedRecords, 60_000)).sort(order).map(shape);
        return { summary, raw, dlq };
      } finally {
        await producer.stop();
        await ingest.admin.deleteTopics([rawTopic, dlqTopic]).catch(() => undefined);
      }
    };
    const onLoop = await importWith(0);
    const onWorkers = await importWith(1);
    expect(onLoop.summary).toMatchObject({ truncated: 12, failedRecords: 10 });
    expect(onLoop.raw).toHaveLength(onLoop.summary.accepted);
    expect(new Set(onLoop.raw.map((r) => r.partition)).size).toBeGreaterThan(1);
    expect(onWorkers.summary).toEqual(onLoop.summary);
    expect(onWorkers.raw).toEqual(onLoop.raw);
    expect(onWorkers.dlq).toEqual(onLoop.dlq);
  });

  it('refuses, counts and reports events older than the retention or ahead of the clock, keeping them in the DLQ instead of losing them to the TTL', async () => {
    const producer = ingest.kafka.producer();
    await producer.start();
    try {
      const retentionDays = 365;
      const pipeline = createIngestPipeline({ producer, instance: 'import-test', maxEventBytes: 256 * 1024, window: { retentionDays, maxFutureSkewMs: 15 * 60_000 }, rawTopic: ingest.rawTopic, dlqTopic: ingest.dlqTopic });
      const now = Date.parse('2026-12-01T10:00:00Z');
      const at = (ms: number) => ({ requestReceivedTimestamp: new Date(ms).toISOString(), stageTimestamp: new Date(ms).toISOString() });
      const DAY = 86_400_000;
      const events = [
        sampleAuditEvent(900_001, at(now - 2 * DAY)),
        sampleAuditEvent(900_002, at(now - (retentionDays + 30) * DAY)), // a year-old export: the TTL would delete it on arrival
        sampleAuditEvent(900_003, at(Date.parse('1970-01-01T00:00:01Z'))),
        sampleAuditEvent(900_004, at(Date.parse('3000-01-01T00:00:00Z'))),
        sampleAuditEvent(900_005, at(now - 10 * DAY)),
      ];
      const rawBefore = await ingest.countEvents(ingest.rawTopic);
      const dlqBefore = await ingest.count(ingest.dlqTopic);
      const summary = await importAuditStream({ input: textOf(events.map((e) => JSON.stringify(e)).join('\n')), format: 'jsonl', cluster: 'prod-eu', pipeline, now: () => new Date(now) });
      expect(summary).toMatchObject({ events: 5, accepted: 2, rejected: 3, tooOld: 2, tooNew: 1, failedRecords: 3 });
      expect(summary.failures.map((f) => f.record)).toEqual([2, 3, 4]);
      expect(summary.failures[0]?.reason).toMatch(/KAUDIT_RETENTION_DAYS=365/);
      expect(summary.failures[2]?.reason).toMatch(/ahead of the receiving clock/);
      expect(await ingest.countEvents(ingest.rawTopic)).toBe(rawBefore + 2);
      expect(await ingest.count(ingest.dlqTopic)).toBe(dlqBefore + 3);
    } finally {
      await producer.stop();
    }
  });
});
