import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DLQ_HEADERS, RAW_HEADERS, headerString } from '@kaudit/kafka';
import { consumeAll, consumeRawEvents, testEndpoints } from '@kaudit/testkit';
import { sampleAuditEvent, sampleEventList } from '../fixtures/sample-audit-event.js';
import { send, startIngest, TOKENS, type RunningIngest } from '../test-support/ingest-harness.js';

let ingest: RunningIngest;
const euUrl = () => `${ingest.url}/v1/clusters/prod-eu/audit`;
const auth = { authorization: `Bearer ${TOKENS.prodEu}` };
const jsonHeaders = { ...auth, 'content-type': 'application/json' };

beforeAll(async () => {
  ingest = await startIngest({ brokers: testEndpoints().kafkaBrokers, env: { INGEST_MAX_BODY_BYTES: String(256 * 1024), INGEST_MAX_EVENT_BYTES: String(8 * 1024) } });
});
afterAll(async () => {
  await ingest?.stop();
});

describe('the audit webhook', () => {
  it('publishes every event of a batch to the raw topic with key and headers, and answers only then', async () => {
    const events = Array.from({ length: 50 }, (_, i) => sampleAuditEvent(1000 + i));
    const res = await send(euUrl(), { headers: jsonHeaders, body: JSON.stringify(sampleEventList(events)) });
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ accepted: 50, rejected: 0 });
    // Acknowledged means on the topic now: no waiting needed for the count.
    expect(await ingest.countEvents(ingest.rawTopic)).toBe(50);
    const gz = await send(euUrl(), { headers: { ...jsonHeaders, 'content-encoding': 'gzip' }, body: gzipSync(JSON.stringify(sampleAuditEvent(2000))) });
    expect(gz.status).toBe(200);
    const records = await consumeRawEvents(ingest.kafka, ingest.rawTopic);
    expect(records).toHaveLength(51);
    const ids = new Set(records.map((r) => (JSON.parse(String(r.value)) as { auditID: string }).auditID));
    for (const e of [...events, sampleAuditEvent(2000)]) expect(ids.has(e.auditID as string)).toBe(true);
    for (const r of records) {
      expect(r.key?.toString()).toBe(`prod-eu/${(JSON.parse(String(r.value)) as { user: { username: string } }).user.username}`);
      expect(headerString(r.headers, RAW_HEADERS.cluster)).toBe('prod-eu');
      expect(headerString(r.headers, RAW_HEADERS.source)).toBe('webhook');
      expect(headerString(r.headers, RAW_HEADERS.instance)).toBe('test-instance');
      expect(headerString(r.headers, RAW_HEADERS.receivedAt)).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    }
  });

  it('publishes each event as the bytes the apiserver sent (integers beyond 2^53 stay exact)', async () => {
    const item = JSON.stringify(sampleAuditEvent(6000)).replace('"generation":42', '"generation":12345678901234567890');
    const res = await send(euUrl(), { headers: jsonHeaders, body: `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[${item}]}` });
    expect(res.status).toBe(200);
    const records = await consumeRawEvents(ingest.kafka, ingest.rawTopic);
    expect(records.some((r) => String(r.value) === item)).toBe(true);
  });

  it('acknowledges concurrent batches of one cluster (coalesced sends stay under the broker message limit)', async () => {
    const before = await ingest.countEvents(ingest.rawTopic);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, c) => send(euUrl(), { headers: jsonHeaders, body: JSON.stringify(sampleEventList(Array.from({ length: 140 }, (_, i) => sampleAuditEvent(10_000 + c * 140 + i)))) })),
    );
    expect(results.map((r) => r.status)).toEqual(Array.from({ length: 10 }, () => 200));
    expect(await ingest.countEvents(ingest.rawTopic)).toBe(before + 1400);
  });

  it('keeps an oversize event without its objects, and dead-letters a bad event while publishing the rest', async () => {
    const before = await ingest.countEvents(ingest.rawTopic);
    const dlqBefore = await ingest.count(ingest.dlqTopic);
    const big = sampleAuditEvent(3000, { responseObject: { data: 'z'.repeat(20_000) } });
    const bad = sampleAuditEvent(3001);
    delete bad.verb;
    const res = await send(euUrl(), { headers: jsonHeaders, body: JSON.stringify(sampleEventList([sampleAuditEvent(3002), big, bad])) });
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ accepted: 2, rejected: 1, truncated: 1 });
    expect((res.json().errors as { index: number; reason: string }[])[0]).toMatchObject({ index: 2 });
    expect(await ingest.countEvents(ingest.rawTopic)).toBe(before + 2);
    expect(await ingest.count(ingest.dlqTopic)).toBe(dlqBefore + 1);
    const dlq = await consumeAll(ingest.kafka, ingest.dlqTopic, dlqBefore + 1);
    const record = dlq.find((r) => headerString(r.headers, DLQ_HEADERS.stage) === 'validate-event');
    expect(JSON.parse(String(record?.value))).toEqual(bad);
    expect(headerString(record?.headers ?? {}, DLQ_HEADERS.reason)).toContain('verb');
  });

  it('answers the same 401 to every credential/cluster mismatch, so neither cluster names nor tokens can be probed', async () => {
    const body = JSON.stringify(sampleEventList([sampleAuditEvent(4000)]));
    const dlqBefore = await ingest.count(ingest.dlqTopic);
    const answers = [
      await send(euUrl(), { headers: { 'content-type': 'application/json' }, body }),
      await send(euUrl(), { headers: { 'content-type': 'application/json', authorization: 'Bearer wrong' }, body }),
      // A token valid for prod-us, tried on prod-eu: must not confirm that it is valid somewhere.
      await send(euUrl(), { headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKENS.prodUs}` }, body }),
      // Unknown clusters, with and without a valid token: must not be told apart from known ones.
      await send(`${ingest.url}/v1/clusters/staging/audit`, { headers: jsonHeaders, body }),
      await send(`${ingest.url}/v1/clusters/staging/audit`, { headers: { 'content-type': 'application/json' }, body }),
    ];
    expect(answers.map((a) => a.status)).toEqual([401, 401, 401, 401, 401]);
    expect(new Set(answers.map((a) => a.body)).size).toBe(1);
    expect(answers[0]?.body).not.toMatch(/prod-|staging/);
    // The env-sourced token of prod-us works for prod-us.
    expect((await send(`${ingest.url}/v1/clusters/prod-us/audit`, { headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKENS.prodUs}` }, body })).status).toBe(200);
    // Strangers cannot fill the DLQ.
    expect(await ingest.count(ingest.dlqTopic)).toBe(dlqBefore);
  });

  const deep = '{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[' + '['.repeat(300) + ']'.repeat(300) + ']}';
  const cases: { name: string; status: number; init: Parameters<typeof send>[1] }[] = [
    { name: 'malformed JSON', status: 400, init: { headers: jsonHeaders, body: '{"kind":"EventList","items":[' } },
    { name: 'wrong content type', status: 415, init: { headers: { ...auth, 'content-type': 'text/plain' }, body: 'hello' } },
    { name: 'unknown content encoding', status: 415, init: { headers: { ...jsonHeaders, 'content-encoding': 'br' }, body: 'xyz' } },
    // Chunked (no Content-Length), so the limit must be enforced while streaming.
    { name: 'body over the limit', status: 413, init: { headers: jsonHeaders, body: Array.from({ length: 40 }, (_, i) => Buffer.alloc(16 * 1024, 48 + (i % 10))) } },
    { name: 'gzip inflating past the limit', status: 413, init: { headers: { ...jsonHeaders, 'content-encoding': 'gzip' }, body: gzipSync(Buffer.alloc(4 * 1024 * 1024, 32)) } },
    { name: 'invalid gzip', status: 400, init: { headers: { ...jsonHeaders, 'content-encoding': 'gzip' }, body: 'not gzip at all' } },
    { name: 'invalid UTF-8', status: 400, init: { headers: jsonHeaders, body: Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d]) } },
    { name: 'nesting too deep', status: 400, init: { headers: jsonHeaders, body: deep } },
    { name: 'wrong kind', status: 400, init: { headers: jsonHeaders, body: JSON.stringify({ kind: 'PodList', apiVersion: 'v1', items: [] }) } },
    { name: 'wrong apiVersion', status: 400, init: { headers: jsonHeaders, body: JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v2', items: [] }) } },
    { name: 'method other than POST', status: 405, init: { method: 'PUT', headers: jsonHeaders, body: JSON.stringify(sampleEventList([])) } },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.status} with a message, one DLQ record across apiserver retries, still serving`, async () => {
      const dlqBefore = await ingest.count(ingest.dlqTopic);
      for (let attempt = 0; attempt < 3; attempt++) {
        const res = await send(euUrl(), c.init);
        expect(res.status).toBe(c.status);
        expect(String(res.json().message).length).toBeGreaterThan(5);
      }
      expect(await ingest.count(ingest.dlqTopic)).toBe(dlqBefore + 1);
      const ok = await send(euUrl(), { headers: jsonHeaders, body: JSON.stringify(sampleAuditEvent(5000)) });
      expect(ok.status).toBe(200);
    });
  }

  it('serves /healthz and /readyz (Kafka reachable) on the webhook port for probes, and /metrics only on the metrics port', async () => {
    expect((await send(`${ingest.url}/healthz`, { method: 'GET' })).status).toBe(200);
    const ready = await send(`${ingest.url}/readyz`, { method: 'GET' });
    expect(ready.status).toBe(200);
    // Metrics carry cluster names: not for whoever can reach the webhook.
    const onWebhookPort = await send(`${ingest.url}/metrics`, { method: 'GET' });
    expect(onWebhookPort.status).toBe(404);
    expect(onWebhookPort.body).not.toContain('prod-eu');
    expect(ingest.metricsUrl).not.toBe(ingest.url);
    expect((await send(`${ingest.metricsUrl}/readyz`, { method: 'GET' })).status).toBe(200);
    const metrics = await send(`${ingest.metricsUrl}/metrics`, { method: 'GET' });
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('kaudit_ingest_requests_total{code="200",cluster="prod-eu"}');
    expect(metrics.body).toContain('kaudit_ingest_events_total{cluster="prod-eu",source="webhook",outcome="accepted"}');
    expect(metrics.body).toContain('kaudit_ingest_events_total{cluster="prod-eu",source="webhook",outcome="dead_lettered"}');
    expect(metrics.body).toContain('kaudit_ingest_produce_seconds_bucket');
    expect(metrics.body).toMatch(/kaudit_ingest_parse_seconds_count [1-9]/);
    expect(metrics.body).toContain('kaudit_ingest_bytes_total');
  });
});
