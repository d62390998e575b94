/**
 * Guarantee: what ingest acknowledges, the store keeps. The kube-apiserver drops a batch once it got
 * a 2xx, so every event a 200 counts as `accepted` must end up in ClickHouse (and stay there past the
 * TTL merge), and every event it counts as `rejected` must be in the DLQ, written by ingest. Enrich
 * and ingest accept exactly the same events: enrich dead-letters none of what ingest accepted.
 *
 * Each probe is a body shape a live probe of the pipeline found answered 200 yet never stored
 * (issue 12 §1): a UTF-8 byte order mark, a second `items` key spelled with an escape, a
 * calendar-invalid time, a year-3000 time, a 1970 time, and a time just past the retention.
 *
 * Runs ingest, enrich and the sink as real child processes on the suite's Kafka and ClickHouse, with
 * topics and a database of their own.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouse, runMigrations, type ClickHouse } from '@kaudit/clickhouse';
import { createKafkaClient, DLQ_HEADERS, type KafkaAdmin, type KafkaClient } from '@kaudit/kafka';
import { freePort } from '@kaudit/stack';
import { consumeAll, ServiceProcess, silentLogger, testEndpoints, uniqueName, waitUntilDrained } from '@kaudit/testkit';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const MIGRATIONS = join(REPO, 'migrations', 'clickhouse');
const RETENTION_DAYS = 365;
const DAY_MS = 86_400_000;
const CLUSTER = 'probe';
const logger = silentLogger('e2e-accept');
/** A value that must never show up in a log line or an HTTP answer (it is only ever in a body). */
const MARKER = `body-marker-${randomBytes(6).toString('hex')}`;

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

/** A v1 Event as the apiserver's webhook backend writes it (k8s.io/apiserver/pkg/apis/audit/v1). */
function event(auditID: string, at: string, stageAt = at): Record<string, unknown> {
  return {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID,
    stage: 'ResponseComplete',
    requestURI: '/api/v1/namespaces/default/configmaps/probe',
    verb: 'get',
    user: { username: 'alice@example.com', groups: ['system:authenticated'] },
    sourceIPs: ['10.0.0.7'],
    userAgent: 'kubectl/v1.31.0 (linux/amd64) kubernetes/9edcffc',
    objectRef: { resource: 'configmaps', namespace: 'default', name: 'probe', apiVersion: 'v1' },
    responseStatus: { metadata: {}, code: 200 },
    requestReceivedTimestamp: at,
    stageTimestamp: stageAt,
  };
}
const list = (items: string[]) => `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[${items.join(',')}]}`;

interface Probe {
  name: string;
  body: Buffer;
  /** auditIDs the body carries (what ingest must either store or dead-letter). */
  ids: string[];
}

function probes(now: number): Probe[] {
  const id = () => randomUUID();
  const recent = iso(now - 60_000);
  const out: Probe[] = [];
  const add = (name: string, body: string | Buffer, ids: string[]) => out.push({ name, body: Buffer.isBuffer(body) ? body : Buffer.from(body), ids });
  const a = id();
  add('control: a plain recent event', list([JSON.stringify(event(a, recent))]), [a]);
  const bom = id();
  add('UTF-8 byte order mark before a single Event', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(event(bom, recent)))]), [bom]);
  const bomList = id();
  add('UTF-8 byte order mark before an EventList', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(list([JSON.stringify(event(bomList, recent))]))]), [bomList]);
  // JSON.parse sees the escaped key as a second "items" and keeps it (the last one wins).
  const shadowed = id();
  const valid = id();
  const noVerb = event(shadowed, recent);
  delete noVerb.verb;
  add('a second items key spelled with an escape', `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[${JSON.stringify(noVerb)}],"\\u0069tems":[${JSON.stringify(event(valid, recent))}]}`, [shadowed, valid]);
  const badDate = id();
  add('a calendar-invalid time', list([JSON.stringify(event(badDate, '2024-13-45T25:61:61Z'))]), [badDate]);
  const feb30 = id();
  add('a day that does not exist (Feb 30)', list([JSON.stringify(event(feb30, '2026-02-30T10:00:00Z'))]), [feb30]);
  const y3000 = id();
  add('a year-3000 time', list([JSON.stringify(event(y3000, '3000-01-01T00:00:00.000000Z'))]), [y3000]);
  const stage3000 = id();
  add('a recent request time with a year-3000 stage time', list([JSON.stringify(event(stage3000, recent, '3000-01-01T00:00:00.000000Z'))]), [stage3000]);
  const y1970 = id();
  add('a 1970 time', list([JSON.stringify(event(y1970, '1970-01-01T00:00:01.000000Z'))]), [y1970]);
  const pastRetention = id();
  add('a time just past the retention', list([JSON.stringify(event(pastRetention, iso(now - RETENTION_DAYS * DAY_MS - 3_600_000)))]), [pastRetention]);
  const bigCode = id();
  add('a response code ClickHouse cannot store (UInt16)', list([JSON.stringify({ ...event(bigCode, recent), responseStatus: { metadata: {}, code: 70_000 } })]), [bigCode]);
  const hugeCode = id();
  add('a response code beyond 32 bits (Avro int)', list([JSON.stringify({ ...event(hugeCode, recent), responseStatus: { metadata: {}, code: 5_000_000_000 } })]), [hugeCode]);
  const mixed = [id(), id(), id()];
  add('one out-of-range event among good ones', list([JSON.stringify(event(mixed[0] as string, recent)), JSON.stringify(event(mixed[1] as string, '1999-01-01T00:00:00Z')), JSON.stringify(event(mixed[2] as string, recent))]), mixed);
  return out;
}

describe('acknowledged events are stored (ingest → Kafka → enrich → sink → ClickHouse)', () => {
  const work = mkdtempSync(join(tmpdir(), 'kaudit-accept-'));
  const token = randomBytes(18).toString('base64url');
  const database = uniqueName('accept');
  const topics = { raw: uniqueName('raw'), enriched: uniqueName('enriched'), alerts: uniqueName('alerts'), dlq: uniqueName('dlq') };
  const groups = { enrich: uniqueName('enrich'), sink: uniqueName('sink') };
  const services: ServiceProcess[] = [];
  let ingestUrl = '';
  let ch: ClickHouse;
  let kafka: KafkaClient;
  let admin: KafkaAdmin;

  beforeAll(async () => {
    const ep = testEndpoints();
    ch = createClickHouse({ url: ep.clickhouseUrl });
    await runMigrations({ client: ch, dir: MIGRATIONS, database, logger, vars: { retention_days: RETENTION_DAYS } });
    kafka = createKafkaClient({ brokers: [ep.kafkaBrokers], clientId: uniqueName('accept'), logger });
    admin = kafka.admin();
    await admin.start();
    await admin.ensureTopics(Object.values(topics).map((topic) => ({ topic, partitions: 2 })));
    writeFileSync(join(work, 'clusters.yaml'), `clusters:\n  ${CLUSTER}:\n    tokens:\n      - sha256: ${createHash('sha256').update(token).digest('hex')}\n`);
    const common = { KAFKA_BROKERS: ep.kafkaBrokers, CLICKHOUSE_URL: ep.clickhouseUrl, CLICKHOUSE_DATABASE: database, KAUDIT_RETENTION_DAYS: String(RETENTION_DAYS), LOG_LEVEL: 'info' };
    const env: Record<string, Record<string, string>> = {
      sink: { ...common, SINK_GROUP_ID: groups.sink, SINK_ENRICHED_TOPIC: topics.enriched, SINK_ALERTS_TOPIC: topics.alerts, SINK_DLQ_TOPIC: topics.dlq },
      enrich: { ...common, ENRICH_GROUP_ID: groups.enrich, ENRICH_INPUT_TOPIC: topics.raw, ENRICH_OUTPUT_TOPIC: topics.enriched, ENRICH_DLQ_TOPIC: topics.dlq },
      ingest: { ...common, CLUSTERS_FILE: join(work, 'clusters.yaml'), INGEST_RAW_TOPIC: topics.raw, INGEST_DLQ_TOPIC: topics.dlq },
    };
    for (const service of ['sink', 'enrich', 'ingest']) {
      const port = await freePort();
      const proc = new ServiceProcess({ service, env: env[service] ?? common, httpPort: port, logDir: join(work, 'logs') });
      services.push(proc);
      await proc.start();
      if (service === 'ingest') ingestUrl = `http://127.0.0.1:${port}/v1/clusters/${CLUSTER}/audit`;
    }
  }, 240_000);

  afterAll(async () => {
    for (const proc of services.reverse()) await proc.stop().catch(() => undefined);
    await admin?.deleteTopics(Object.values(topics)).catch(() => undefined);
    await admin?.stop();
    await ch?.command({ query: `DROP DATABASE IF EXISTS ${database}` }).catch(() => undefined);
    await ch?.close();
    rmSync(work, { recursive: true, force: true });
  }, 120_000);

  const post = async (body: Buffer) => {
    const res = await fetch(ingestUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body, signal: AbortSignal.timeout(30_000) });
    return { status: res.status, text: await res.text() };
  };

  /** Until enrich and the sink have committed everything on their input topics: the pipeline is at rest. */
  const drained = () => waitUntilDrained(admin, [{ group: groups.enrich, topic: topics.raw }, { group: groups.sink, topic: topics.enriched }], 90_000);

  it('stores every event a 2xx accepted (past the TTL merge), dead-letters at ingest every event it refused, and enrich dead-letters none', async () => {
    const all = probes(Date.now());
    const accepted = new Map<string, string>();
    const refused = new Map<string, string>();
    const miscounted: string[] = [];
    for (const probe of all) {
      const res = await post(probe.body);
      const answer = res.status === 200 ? (JSON.parse(res.text) as { accepted: number; errors: { index: number; reason: string }[] }) : undefined;
      if (answer === undefined) {
        // A refused body: every event of it is refused, the body is in the DLQ.
        expect(res.status, `${probe.name}: ${res.text}`).toBeGreaterThanOrEqual(400);
        expect(res.status, `${probe.name}: ${res.text}`).toBeLessThan(500);
        for (const id of probe.ids) refused.set(id, probe.name);
        continue;
      }
      const rejectedIndexes = new Set(answer.errors.map((e) => e.index));
      // Body order = index order for a list; a single Event is index 0.
      probe.ids.forEach((id, index) => (rejectedIndexes.has(index) ? refused : accepted).set(id, probe.name));
      if (answer.accepted !== probe.ids.length - rejectedIndexes.size) miscounted.push(`${probe.name}: accepted ${answer.accepted} of ${probe.ids.length}, ${rejectedIndexes.size} rejected`);
    }
    await drained();
    // Force the TTL (and deduplication) merges now: a row the TTL would drop on arrival is gone after this.
    await ch.command({ query: `OPTIMIZE TABLE ${database}.audit_events FINAL` });
    const stored = new Set(
      (await (await ch.query({ query: `SELECT audit_id FROM ${database}.audit_events WHERE cluster = {c:String}`, query_params: { c: CLUSTER }, format: 'JSONEachRow' })).json<{ audit_id: string }>()).map((r) => r.audit_id),
    );
    const lost = [...accepted].filter(([id]) => !stored.has(id)).map(([, name]) => name);
    const storedRefused = [...refused].filter(([id]) => stored.has(id)).map(([, name]) => name);

    const dlqCount = (await admin.fetchTopicOffsets(topics.dlq)).reduce((n, p) => n + Number(p.high), 0);
    const dead = await consumeAll(kafka, topics.dlq, dlqCount, 60_000);
    const byService = (service: string) => dead.filter((d) => d.headers[DLQ_HEADERS.service]?.toString() === service);
    const enrichDead = byService('enrich').map((d) => `${d.headers[DLQ_HEADERS.stage]?.toString() ?? ''}: ${d.headers[DLQ_HEADERS.reason]?.toString() ?? ''}`);
    const ingestDead = byService('ingest').map((d) => d.value?.toString() ?? '');
    const refusedNotInDlq = [...refused].filter(([id]) => !ingestDead.some((v) => v.includes(id))).map(([, name]) => name);
    // One assertion, so a failure shows every way the promise was broken at once.
    expect({ miscounted, lost, storedRefused, enrichDead, refusedNotInDlq }).toEqual({ miscounted: [], lost: [], storedRefused: [], enrichDead: [], refusedNotInDlq: [] });
    // The control event and the good ones of the mixed batch are there; the test can fail only where it should.
    expect(accepted.size).toBeGreaterThanOrEqual(3);
  });

  it('answers a malformed body with the problem and its position, never quoting the body, in the answer, the DLQ reason or the log', async () => {
    const res = await post(Buffer.from(`{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{"auditID": ${MARKER}}]}`));
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/position \d+/);
    expect(res.text).not.toContain(MARKER);
    const dlqCount = (await admin.fetchTopicOffsets(topics.dlq)).reduce((n, p) => n + Number(p.high), 0);
    const dead = await consumeAll(kafka, topics.dlq, dlqCount, 60_000);
    const record = dead.find((d) => d.value?.toString().includes(MARKER));
    expect(record, 'the body itself is kept in the DLQ').toBeDefined();
    expect(record?.headers[DLQ_HEADERS.reason]?.toString()).not.toContain(MARKER);
    await sleep(500); // pino writes asynchronously
    const ingestLog = readFileSync(services.find((s) => s.logFile.endsWith('ingest.log'))?.logFile ?? '', 'utf8');
    expect(ingestLog).toContain('request_refused');
    expect(ingestLog).not.toContain(MARKER);
  });
});
