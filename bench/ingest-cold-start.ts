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
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditTraffic, toEventList } from '@kaudit/audit-generator';
import { createKafkaClient, type KafkaAdmin } from '@kaudit/kafka';
import { freePort } from '@kaudit/stack';
import { ServiceProcess } from '@kaudit/testkit';
import type { BenchFigure, BenchRun } from './bench-types.js';

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
/** Linux's USER_HZ: /proc counts CPU time in ticks of 1/100 s. */
const TICKS_PER_SECOND = 100;
/** epoll_pwait / epoll_wait on x86-64: where an idle event loop (the main one, a worker's) blocks. */
const EPOLL_SYSCALLS = new Set(['281', '232']);

function threadCpu(pid: number, tid: string): number {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0; // the thread ended: its time is in no group from now on
  }
}

/**
 * The body-check worker threads of an idle ingest, from outside (node 20 names no thread): the last
 * `count` threads started that are not waiting in epoll. An idle piscina worker waits in
 * Atomics.wait (a futex), like V8's and libuv's pool threads, but it is started after them, at
 * BodyChecker.start; the threads started after the pool that do wait in epoll are tsx's loader
 * threads of each worker (a checkout only: the image runs compiled JavaScript), counted apart.
 * Checked by the caller: each worker must have used CPU.
 */
function threadGroups(pid: number, count: number): { workers: string[]; loaders: string[] } {
  const inEpoll = (tid: string): boolean => {
    try {
      return EPOLL_SYSCALLS.has(readFileSync(`/proc/${pid}/task/${tid}/syscall`, 'utf8').split(' ')[0] ?? '');
    } catch {
      return false;
    }
  };
  const tids = readdirSync(`/proc/${pid}/task`)
    .filter((tid) => tid !== String(pid))
    .sort((a, b) => Number(a) - Number(b));
  // The first thread in epoll is node's delayed-task scheduler; the others run tsx's loader hooks.
  return { workers: tids.filter((tid) => !inEpoll(tid)).slice(-count), loaders: tids.filter(inEpoll).slice(1) };
}

interface CpuSplit {
  main: number;
  workers: number;
  /** tsx's loader threads (a checkout only). */
  loaders: number;
  /** V8's GC and compiler threads, libuv's pool. */
  other: number;
}

function cpuSplit(pid: number, groups: { workers: readonly string[]; loaders: readonly string[] }): CpuSplit {
  const sum = (tids: readonly string[]) => tids.reduce((n, tid) => n + threadCpu(pid, tid), 0);
  const total = sum(readdirSync(`/proc/${pid}/task`));
  const main = threadCpu(pid, String(pid));
  const workers = sum(groups.workers);
  const loaders = sum(groups.loaders);
  return { main, workers, loaders, other: total - main - workers - loaders };
}

const perEvent = (a: CpuSplit, b: CpuSplit, events: number): CpuSplit => ({
  main: ((b.main - a.main) * 1e6) / events,
  workers: ((b.workers - a.workers) * 1e6) / events,
  loaders: ((b.loaders - a.loaders) * 1e6) / events,
  other: ((b.other - a.other) * 1e6) / events,
});

async function topicCount(admin: KafkaAdmin, topic: string): Promise<number> {
  return (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
}

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
    const landed = await topicCount(opts.admin, rawTopic);
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
