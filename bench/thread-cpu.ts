/**
 * CPU time of a process's threads from /proc (Linux), grouped as ingest's benches report it: the event
 * loop, the body-check worker threads, tsx's loader threads (a checkout only) and the rest (V8's GC and
 * compiler threads, libuv's pool). CPU time, not wall time: meaningful on a loaded machine, within /proc's
 * 10 ms ticks.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Linux's USER_HZ: /proc counts CPU time in ticks of 1/100 s. */
const TICKS_PER_SECOND = 100;
/** epoll_pwait / epoll_wait on x86-64: where an idle event loop (the main one, a worker's) blocks. */
const EPOLL_SYSCALLS = new Set(['281', '232']);

export function threadCpu(pid: number, tid: string): number {
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
export function threadGroups(pid: number, count: number): { workers: string[]; loaders: string[] } {
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
  // slice(-0) would be every thread: no workers (parsing on the event loop) is none.
  return { workers: count > 0 ? tids.filter((tid) => !inEpoll(tid)).slice(-count) : [], loaders: tids.filter(inEpoll).slice(1) };
}

export interface CpuSplit {
  main: number;
  workers: number;
  /** tsx's loader threads (a checkout only). */
  loaders: number;
  /** V8's GC and compiler threads, libuv's pool. */
  other: number;
}

export function cpuSplit(pid: number, groups: { workers: readonly string[]; loaders: readonly string[] }): CpuSplit {
  const sum = (tids: readonly string[]) => tids.reduce((n, tid) => n + threadCpu(pid, tid), 0);
  const total = sum(readdirSync(`/proc/${pid}/task`));
  const main = threadCpu(pid, String(pid));
  const workers = sum(groups.workers);
  const loaders = sum(groups.loaders);
  return { main, workers, loaders, other: total - main - workers - loaders };
}

export const perEvent = (a: CpuSplit, b: CpuSplit, events: number): CpuSplit => ({
  main: ((b.main - a.main) * 1e6) / events,
  workers: ((b.workers - a.workers) * 1e6) / events,
  loaders: ((b.loaders - a.loaders) * 1e6) / events,
  other: ((b.other - a.other) * 1e6) / events,
});


/** One thread's name group (see threadCpuSnapshot) and its CPU seconds so far. */
export interface ThreadSample {
  group: string;
  cpu: number;
}

/**
 * Every thread of these processes, keyed `pid/tid`, with its CPU seconds so far and its name with the number dropped
 * (`GC Thread#1`, `data-plane-kafka-network-thread-1-…` → one group each; Linux keeps 15 characters of a name): where
 * an engine's CPU goes (the JVM's GC and JIT threads, the broker's network and request handler threads, ClickHouse's
 * HTTP handlers, merges, background schedule pool), without a profiler. Compare two with threadCpuBetween.
 */
export function threadCpuSnapshot(pids: readonly number[]): Map<string, ThreadSample> {
  const threads = new Map<string, ThreadSample>();
  for (const pid of pids) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue; // the process ended
    }
    for (const tid of tids) {
      let name: string;
      try {
        name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      } catch {
        continue;
      }
      threads.set(`${pid}/${tid}`, { group: name.replace(/[#-]?\d+$/, '').replace(/[#-]$/, '') || name, cpu: threadCpu(pid, tid) });
    }
  }
  return threads;
}

/**
 * CPU seconds each thread group used between two snapshots, thread by thread, under the name a thread has at the
 * end. Per thread, not per name: ClickHouse renames its pool threads by the job they run and ends idle ones, so a
 * difference of per-name sums went negative (a phase's "HTTP handlers" at -88 CPU-s per million events). A thread
 * that ended between the two is in no group (its time is still in the process's total), so each group is a lower
 * bound.
 */
export function threadCpuBetween(before: ReadonlyMap<string, ThreadSample>, after: ReadonlyMap<string, ThreadSample>): Map<string, number> {
  const groups = new Map<string, number>();
  for (const [thread, { group, cpu }] of after) groups.set(group, (groups.get(group) ?? 0) + cpu - (before.get(thread)?.cpu ?? 0));
  return groups;
}

/**
 * The Kafka broker JVM's thread groups (threadCpuSnapshot's names) that say where its CPU goes: a fresh JVM's JIT
 * compilers, its GC, and the threads that serve requests (network and request handler threads share one truncated
 * name, data-plane-kafk). Shared by the pipeline and alert benches.
 */
export const KAFKA_THREAD_PARTS: readonly { part: string; threads: readonly string[] }[] = [
  { part: 'JIT compiler threads (warm-up of a fresh JVM)', threads: ['C1 CompilerThre', 'C2 CompilerThre'] },
  { part: 'GC threads', threads: ['GC Thread', 'G1 Conc', 'G1 Refine', 'G1 Main Marker', 'G1 Service', 'VM Thread'] },
  { part: 'network + request handler threads', threads: ['data-plane-kafk'] },
];

/** The machine's busy CPU seconds so far, every process's (/proc/stat: user, nice, system, irq, softirq, steal). */
export function machineBusySeconds(): number {
  const [user, nice, system, , , irq, softirq, steal] = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  // USER_HZ ticks (100 per second on Linux).
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / TICKS_PER_SECOND;
}
