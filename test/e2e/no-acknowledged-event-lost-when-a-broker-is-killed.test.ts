/**
 * Guarantee (DESIGN.md): ingest answers 2xx only after Kafka acknowledged the write (acks=all) — and on
 * a replicated cluster that still holds when a broker crashes: while traffic flows, the two followers of
 * the partition being written hang (SIGSTOP), its leader is SIGKILLed, the followers resume and the
 * leader is restarted. Nothing may be acknowledged while only the leader has it (acks=1 would, and would
 * lose those events with the leader); every acknowledged event is on the raw topic exactly once (counted
 * per event, duplicates are not collapsed) and, after enrich and sink, in ClickHouse as exactly one row;
 * writes resume on the surviving replicas.
 *
 * A private three-broker KRaft cluster (same cached jars as the stack, three processes, one quorum),
 * topics made by `kaudit setup` with KAUDIT_TOPIC_REPLICATION_FACTOR=3 and _MIN_INSYNC_REPLICAS=2.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng, scenarioEvents, toEventList } from '@kaudit/audit-generator';
import { createClickHouse } from '@kaudit/clickhouse';
import { createKafkaClient, TOPICS, type KafkaAdmin } from '@kaudit/kafka';
import { freePort, startKafkaCluster, type KafkaCluster } from '@kaudit/stack';
import { consumeRawEvents, ServiceProcess, silentLogger, testEndpoints, uniqueName } from '@kaudit/testkit';
import { buildProgram } from 'kaudit';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const ROOT = join(REPO, '.kaudit');
const logger = silentLogger();
const work = mkdtempSync(join(tmpdir(), 'kaudit-broker-kill-'));
const clusterDir = join(ROOT, 'stack', uniqueName('kafka-cluster'));
const database = uniqueName('broker_kill');
let cluster: KafkaCluster;
let ingest: ServiceProcess | undefined;
const consumers: ServiceProcess[] = [];
let admin: KafkaAdmin | undefined;

beforeAll(async () => {
  cluster = await startKafkaCluster({ dir: clusterDir, cacheDir: join(ROOT, 'cache'), size: 3, heapMb: 320, logger });
}, 300_000);

afterAll(async () => {
  await admin?.stop().catch(() => undefined);
  await ingest?.stop().catch(() => undefined);
  for (const proc of consumers) await proc.stop().catch(() => undefined);
  for (const node of cluster?.nodes ?? []) node.resume();
  await cluster?.stop();
  const ch = createClickHouse({ url: testEndpoints().clickhouseUrl });
  await ch.command({ query: `DROP DATABASE IF EXISTS ${database}` }).catch(() => undefined);
  await ch.close();
  rmSync(clusterDir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
}, 120_000);

const template = scenarioEvents(createRng(5), 'cordon-node', Date.now() - 60_000)[0] as Record<string, unknown>;

describe('a replicated Kafka cluster losing a broker', () => {
  it('acknowledges only written events, keeps writing on the replicas, and holds every acknowledged event exactly once', async () => {
    const setupOut: string[] = [];
    await buildProgram({
      env: {
        KAFKA_BROKERS: cluster.brokers,
        KAUDIT_TOPIC_REPLICATION_FACTOR: '3',
        KAUDIT_TOPIC_MIN_INSYNC_REPLICAS: '2',
        CLICKHOUSE_URL: testEndpoints().clickhouseUrl,
        CLICKHOUSE_DATABASE: database,
      },
      paths: { root: REPO, state: join(work, 'state') },
      logger,
      out: (t) => setupOut.push(t),
      setExitCode: (c) => setupOut.push(`exit ${c}`),
    }).parseAsync(['node', 'kaudit', 'setup']);
    expect(setupOut.join('\n')).not.toContain('exit');

    const token = randomBytes(18).toString('base64url');
    writeFileSync(join(work, 'clusters.yaml'), `clusters:\n  prod-1:\n    tokens:\n      - sha256: ${createHash('sha256').update(token).digest('hex')}\n`);
    const port = await freePort();
    ingest = new ServiceProcess({ service: 'ingest', httpPort: port, logDir: join(work, 'logs'), env: { KAFKA_BROKERS: cluster.brokers, CLUSTERS_FILE: join(work, 'clusters.yaml') } });
    await ingest.start(120_000);

    admin = createKafkaClient({ brokers: cluster.brokers.split(','), clientId: uniqueName('check'), logger }).admin();
    await admin.start();
    // Ingest makes sure its topics exist at start; that must not undo what setup configured.
    const described = await admin.describeTopic(TOPICS.raw);
    expect(described.partitions.length).toBeGreaterThan(0);
    expect(described.partitions.every((p) => p.replicas.length === 3)).toBe(true);
    expect(described.configs['min.insync.replicas']).toBe('2');

    const acknowledged: string[] = [];
    const unacknowledged = new Set<string>();
    const statuses: number[] = [];
    let phase: 'before' | 'isolated' | 'down' | 'after' | 'done' = 'before';
    const ackedIn = { before: 0, isolated: 0, down: 0, after: 0 };
    const post = async () => {
      const ids = Array.from({ length: 25 }, () => randomUUID());
      const at = phase;
      const res = await fetch(`http://127.0.0.1:${port}/v1/clusters/prod-1/audit`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(toEventList(ids.map((auditID) => ({ ...template, auditID })))),
      }).catch(() => undefined);
      statuses.push(res?.status ?? 0);
      if (res?.status === 200) {
        acknowledged.push(...ids);
        // Sent and answered while the followers hung: only the leader can have had these records.
        if (at === 'isolated') ackedIn[phase === 'isolated' ? 'isolated' : 'down'] += 1;
        else if (at !== 'done') ackedIn[at] += 1;
      } else for (const id of ids) unacknowledged.add(id);
      await res?.arrayBuffer().catch(() => undefined);
    };
    const senders = [0, 1].map(async () => {
      while (phase !== 'done') await post();
    });
    const until = async (what: () => boolean, ms: number) => {
      const deadline = Date.now() + ms;
      while (!what() && Date.now() < deadline) await sleep(100);
    };

    await until(() => ackedIn.before >= 10, 60_000);
    expect(ackedIn.before).toBeGreaterThanOrEqual(10);
    // The broker that leads the partition the cluster's records go to (key = cluster: one partition).
    const written = (await admin.fetchTopicOffsets(TOPICS.raw)).filter((p) => Number(p.high) > 0).map((p) => p.partition);
    expect(written).toHaveLength(1);
    const leader = (await admin.describeTopic(TOPICS.raw)).partitions.find((p) => p.partition === written[0])?.leader;
    const victim = cluster.nodes.find((n) => n.nodeId === leader);
    expect(victim).toBeDefined();
    await admin.stop();
    admin = createKafkaClient({ brokers: cluster.nodes.filter((n) => n !== victim).map((n) => n.broker), clientId: uniqueName('check'), logger }).admin();
    await admin.start();

    // The followers hang: the leader alone has whatever arrives now, so none of it may be acknowledged.
    const followers = cluster.nodes.filter((n) => n !== victim);
    for (const f of followers) f.pause();
    phase = 'isolated';
    await sleep(3000);
    phase = 'down';
    await victim?.kill();
    for (const f of followers) f.resume();
    expect(ackedIn.isolated).toBe(0);
    // Writes resume once the controller moved leadership to a surviving in-sync replica.
    await until(() => ackedIn.down >= 10, 90_000);
    expect(ackedIn.down).toBeGreaterThanOrEqual(10);
    await victim?.start();
    phase = 'after';
    await until(() => ackedIn.after >= 10, 90_000);
    phase = 'done';
    await Promise.all(senders);
    expect(ackedIn.after).toBeGreaterThanOrEqual(10);
    // Only 200 (acknowledged) or 503 (Kafka did not acknowledge in time) — never a 2xx for anything else.
    expect(statuses.filter((s) => s !== 200 && s !== 503)).toEqual([]);

    const reader = createKafkaClient({ brokers: cluster.brokers.split(','), clientId: uniqueName('read'), logger });
    // Every record on the topic, as events (a raw.v2 record holds many).
    const records = await consumeRawEvents(reader, TOPICS.raw, 120_000);
    const copies = new Map<string, number>();
    for (const r of records) {
      const id = String((JSON.parse(r.value?.toString() ?? '{}') as { auditID?: unknown }).auditID);
      copies.set(id, (copies.get(id) ?? 0) + 1);
    }
    // Every acknowledged event exactly once: neither lost nor doubled.
    const notOnce = acknowledged.filter((id) => copies.get(id) !== 1);
    expect(notOnce).toEqual([]);
    // Anything else on the topic came from a batch answered 503 that landed after all — never from nowhere.
    // (Such a batch may even land twice: kafkajs resends it after the failover; the sink collapses
    // repeats by cluster, auditID and stage, as it does for the apiserver's own resends of a 503.)
    const ackedSet = new Set(acknowledged);
    const extra = [...copies.keys()].filter((id) => !ackedSet.has(id));
    expect(extra.filter((id) => !unacknowledged.has(id))).toEqual([]);
    const twice = extra.filter((id) => (copies.get(id) ?? 0) > 1).length;
    console.log(`[broker-kill] acknowledged ${acknowledged.length} events (${ackedIn.before}/${ackedIn.isolated}/${ackedIn.down}/${ackedIn.after} batches before/isolated/down/after), ${statuses.filter((s) => s === 503).length} batches answered 503, ${extra.length} events of those on the topic anyway (${twice} of them twice)`);

    // Downstream: enrich and sink (started now, so they do not compete with the fault for the two cores)
    // store every acknowledged event in ClickHouse once — rows counted per event, not FINAL.
    for (const service of ['sink', 'enrich']) {
      const proc = new ServiceProcess({
        service,
        httpPort: await freePort(),
        logDir: join(work, 'logs'),
        env: { KAFKA_BROKERS: cluster.brokers, CLICKHOUSE_URL: testEndpoints().clickhouseUrl, CLICKHOUSE_DATABASE: database },
      });
      consumers.push(proc);
      await proc.start(120_000);
    }
    const ch = createClickHouse({ url: testEndpoints().clickhouseUrl });
    try {
      const rowsPerEvent = async () => {
        const rs = await ch.query({ query: `SELECT audit_id, count() AS n FROM ${database}.audit_events WHERE cluster = 'prod-1' GROUP BY audit_id`, format: 'JSONEachRow' });
        return new Map((await rs.json<{ audit_id: string; n: string }>()).map((r) => [r.audit_id, Number(r.n)]));
      };
      const deadline = Date.now() + 240_000;
      let stored = await rowsPerEvent();
      while (acknowledged.some((id) => !stored.has(id)) && Date.now() < deadline) {
        await sleep(2000);
        stored = await rowsPerEvent();
      }
      expect(acknowledged.filter((id) => stored.get(id) !== 1)).toEqual([]);
      expect([...stored.keys()].filter((id) => !ackedSet.has(id) && !unacknowledged.has(id))).toEqual([]);
    } finally {
      await ch.close();
    }
  }, 900_000);
});
