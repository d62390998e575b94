/**
 * Where a loaded machine's CPU goes, second by second (issue 15's warm-up window): the Kafka broker JVM by thread
 * group (JIT compilers, GC, request handlers, the rest), each service's main thread and its other threads (V8's GC
 * and compiler threads, libuv's pool, tsx's loader), the load generator (the bench process) and the rest of the
 * machine (other processes on a shared host). CPU time from /proc, not wall time: it says who was queueing for the
 * two cores when the latency grew, which a wall-clock latency cannot.
 */
import { cpuSeconds, processTree } from '@kaudit/stack';
import { KAFKA_THREAD_PARTS, machineBusySeconds, threadCpu, threadCpuBetween, threadCpuSnapshot, type ThreadSample } from './thread-cpu.js';

export interface CpuSnapshot {
  /** ms since the load began. */
  t: number;
  machine: number;
  generator: number;
  /** Per service: CPU seconds of its main thread and of the whole process. */
  services: Map<string, { main: number; total: number }>;
  kafkaThreads: Map<string, ThreadSample>;
  kafkaTotal: number;
}

export interface CpuSources {
  kafkaPid: () => number | undefined;
  /** Service name → the PID of its node process, now. */
  services: () => ReadonlyMap<string, number | undefined>;
}

export function cpuSnapshot(t: number, sources: CpuSources): CpuSnapshot {
  const own = process.cpuUsage();
  const services = new Map<string, { main: number; total: number }>();
  for (const [name, pid] of sources.services()) {
    if (pid !== undefined) services.set(name, { main: threadCpu(pid, String(pid)), total: cpuSeconds(pid) ?? 0 });
  }
  const kafkaPid = sources.kafkaPid();
  const tree = kafkaPid === undefined ? [] : processTree(kafkaPid);
  return {
    t,
    machine: machineBusySeconds(),
    generator: (own.user + own.system) / 1e6,
    services,
    kafkaThreads: threadCpuSnapshot(tree),
    kafkaTotal: kafkaPid === undefined ? 0 : (cpuSeconds(kafkaPid) ?? 0),
  };
}

/**
 * CPU seconds per part between two snapshots, in a fixed order: `kafka: <group>` and `kafka: other threads`,
 * `<service>: main thread` / `other threads`, `load generator`, `rest of the machine` (the machine's busy time
 * minus all of the above; never below 0, since /proc/stat's and /proc/<pid>'s ticks differ a little).
 */
export function cpuPartsBetween(a: CpuSnapshot, b: CpuSnapshot): [string, number][] {
  const parts: [string, number][] = [];
  const groups = threadCpuBetween(a.kafkaThreads, b.kafkaThreads);
  let named = 0;
  for (const { part, threads } of KAFKA_THREAD_PARTS) {
    const s = threads.reduce((sum, t) => sum + (groups.get(t) ?? 0), 0);
    named += s;
    parts.push([`kafka: ${part}`, s]);
  }
  const kafka = b.kafkaTotal - a.kafkaTotal;
  parts.push(['kafka: other threads', Math.max(0, kafka - named)]);
  let services = 0;
  for (const [name, end] of b.services) {
    const start = a.services.get(name) ?? { main: 0, total: 0 };
    const main = end.main - start.main;
    const total = end.total - start.total;
    services += total;
    parts.push([`${name}: main thread`, main], [`${name}: other threads (GC, compiler, pool)`, Math.max(0, total - main)]);
  }
  const generator = b.generator - a.generator;
  parts.push(['load generator (bench process)', generator]);
  parts.push(['rest of the machine', Math.max(0, b.machine - a.machine - kafka - services - generator)]);
  return parts;
}

/** Cores busy per part between two snapshots (CPU seconds over wall seconds). */
export function coresBetween(a: CpuSnapshot, b: CpuSnapshot): [string, number][] {
  const seconds = (b.t - a.t) / 1000;
  return cpuPartsBetween(a, b).map(([part, s]) => [part, seconds > 0 ? s / seconds : Number.NaN]);
}
