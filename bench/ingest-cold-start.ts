/**
 * Ingest's cold start (issue 15 §1), ~1 min: CPU per event of the first webhook events after a start
 * next to the steady state, per thread — the event loop, the body-check worker threads, and the rest
 * (V8's GC and concurrent compiler threads, libuv's pool; tsx's loader threads apart) — with the start-up warm-up off
 * (INGEST_WARM_UP_EVENTS=0) and on (the defaults). Cold, the first few thousand events run through
 * V8's interpreter while it compiles; that excess arrives when the traffic does and becomes a backlog
 * every service downstream waits behind. CPU time (from /proc), not wall time: meaningful on a loaded
 * machine, within /proc's 10 ms ticks.
 *
 * Load: apiserver-like 400-event batches (the demo generator's mix, serialized before the service
 * starts), 4 in flight, the same bodies in both runs; 2 parse threads, so "each worker" is visible.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditTraffic, toEventList } from '@kaudit/audit-generator';
import { createKafkaClient, type KafkaAdmin } from '@kaudit/kafka';
import { freePort } from '@kaudit/stack';
import { consumeRawEvents, ServiceProcess, silentLogger } from '@kaudit/testkit';
import type { BenchFigure, BenchRun } from './bench-types.js';
import { cpuSplit, perEvent, threadCpu, threadGroups, type CpuSplit } from './thread-cpu.js';

const uniqueName = (prefix: string): string => `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
const BATCH = 400;
const IN_FLIGHT = 4;
const PARSE_THREADS = 2;
/** The first slice: the events issue 15 names ("the first ~2,500"). */
const FIRST = 2400;
/** Steady: after this many events, the same number of events again is measured. */
const STEADY_AFTER = 24_000;
const STEADY = 16_000;
const CLUSTERS = ['cold-a', 'cold-b', 'cold-c'];

async function coldStart(opts: { brokers: string; admin: KafkaAdmin; dir: string; clustersFile: string; tokens: string[]; bodies: Buffer[]; env: Record<string, string> }): Promise<{ first: CpuSplit; steady: CpuSplit; startMs: number; workers: number }> {
  const rawTopic = uniqueName('bench_cold_raw');
  const dlqTopic = uniqueName('bench_cold_dlq');
  await opts.admin.ensureTopics([
    { topic: rawTopic, partitions: 6 },
    { topic: dlqTopic, partitions: 1 },
  ]);
  const port = await freePort();
  const service = new ServiceProcess({
    service: 'ingest',
    httpPort: port,
    logDir: opts.dir,
    env: { KAFKA_BROKERS: opts.brokers, CLUSTERS_FILE: opts.clustersFile, INGEST_RAW_TOPIC: rawTopic, INGEST_DLQ_TOPIC: dlqTopic, INGEST_PARSE_THREADS: String(PARSE_THREADS), LOG_LEVEL: 'warn', ...opts.env },
  });
  const startBegan = performance.now();
  await service.start();
  const startMs = performance.now() - startBegan;
  const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
  try {
    const pid = service.pid as number;
    const groups = threadGroups(pid, PARSE_THREADS);
    const post = (n: number) =>
      new Promise<number>((resolve, reject) => {
        const c = n % CLUSTERS.length;
        const body = opts.bodies[n % opts.bodies.length] as Buffer;
        const req = request(
          { host: '127.0.0.1', port, path: `/v1/clusters/${CLUSTERS[c]}/audit`, method: 'POST', agent, headers: { authorization: `Bearer ${opts.tokens[c]}`, 'content-type': 'application/json', 'content-length': String(body.length) } },
          (res) => {
            res.resume();
            res.on('end', () => (res.statusCode === 200 ? resolve(BATCH) : reject(new Error(`ingest answered ${res.statusCode}`))));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    let next = 0;
    /** Posts `events` more events (whole batches), IN_FLIGHT at a time. */
    const send = async (events: number) => {
      const last = next + Math.ceil(events / BATCH);
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          while (next < last) await post(next++);
        }),
      );
    };
    const t0 = cpuSplit(pid, groups);
    await send(FIRST);
    const t1 = cpuSplit(pid, groups);
    await send(STEADY_AFTER - FIRST);
    const t2 = cpuSplit(pid, groups);
    await send(STEADY);
    const t3 = cpuSplit(pid, groups);
    // Events, not records: a raw.v2 record holds many.
    const landed = (await consumeRawEvents(createKafkaClient({ brokers: [opts.brokers], clientId: 'bench-cold-start-read', logger: silentLogger() }), rawTopic, 120_000)).length;
    if (landed !== next * BATCH) throw new Error(`ingest acknowledged ${next * BATCH} events but ${landed} are on ${rawTopic}`);
    // A thread taken for a worker that never ran a check would make the split wrong, not just noisy.
    const busy = groups.workers.filter((tid) => threadCpu(pid, tid) > 0).length;
    return { first: perEvent(t0, t1, FIRST), steady: perEvent(t2, t3, STEADY), startMs, workers: busy };
  } finally {
    agent.destroy();
    await service.stop();
    await opts.admin.deleteTopics([rawTopic, dlqTopic]).catch(() => undefined);
  }
}

export const run: BenchRun = async (ctx) => {
  const dir = mkdtempSync(join(tmpdir(), 'kaudit-bench-cold-'));
  const tokens = CLUSTERS.map(() => randomBytes(24).toString('base64url'));
  const clustersFile = join(dir, 'clusters.yaml');
  writeFileSync(clustersFile, `clusters:\n${CLUSTERS.map((c, i) => `  ${c}:\n    tokens:\n      - sha256: ${createHash('sha256').update(tokens[i] as string).digest('hex')}\n`).join('')}`);
  const traffic = auditTraffic({ seed: 29, clusters: CLUSTERS, startMs: Date.now(), stepMs: 1 });
  const bodies = Array.from({ length: 24 }, () => Buffer.from(JSON.stringify(toEventList(Array.from({ length: BATCH }, () => (traffic.next().value as { event: Record<string, unknown> }).event)))));
  const admin = createKafkaClient({ brokers: [ctx.kafkaBrokers], clientId: 'bench-cold-start', logger: ctx.logger }).admin();
  await admin.start();
  const figures: BenchFigure[] = [];
  try {
    for (const [label, env] of [
      ['warm-up off', { INGEST_WARM_UP_EVENTS: '0' }],
      ['warm-up on', {}],
    ] as const) {
      const r = await coldStart({ brokers: ctx.kafkaBrokers, admin, dir, clustersFile, tokens, bodies, env });
      if (r.workers !== PARSE_THREADS) process.stderr.write(`  ${label}: ${r.workers} of the ${PARSE_THREADS} threads taken for workers used CPU: the split below is unreliable\n`);
      const show = (s: CpuSplit) => `main ${Math.round(s.main)} / workers ${Math.round(s.workers)} / tsx loaders ${Math.round(s.loaders)} / other ${Math.round(s.other)}`;
      process.stderr.write(`  ${label}: start→ready ${Math.round(r.startMs)} ms; CPU µs/event first ${FIRST}: ${show(r.first)}; steady: ${show(r.steady)}\n`);
      const total = (s: CpuSplit) => s.main + s.workers + s.loaders + s.other;
      figures.push(
        { name: `${label}: CPU per event, first ${FIRST} events after start (all threads)`, value: total(r.first), unit: 'µs', baseline: total(r.steady), baselineName: `steady, events ${STEADY_AFTER}+` },
        { name: `${label}: event loop CPU per event, first ${FIRST}`, value: r.first.main, unit: 'µs', baseline: r.steady.main, baselineName: 'steady' },
        { name: `${label}: check workers' CPU per event, first ${FIRST}`, value: r.first.workers, unit: 'µs', baseline: r.steady.workers, baselineName: 'steady' },
        { name: `${label}: other threads (GC, compiler) CPU per event, first ${FIRST}`, value: r.first.other, unit: 'µs', baseline: r.steady.other, baselineName: 'steady' },
        { name: `${label}: tsx loader threads (checkout only) CPU per event, first ${FIRST}`, value: r.first.loaders, unit: 'µs', baseline: r.steady.loaders, baselineName: 'steady' },
        { name: `${label}: start → /readyz 200`, value: r.startMs, unit: 'ms' },
      );
    }
  } finally {
    await admin.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
};
