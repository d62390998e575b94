import { openSync, closeSync, readFileSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { KauditError } from '@kaudit/errors';

/** PID recorded in a file, or undefined when the file is missing or its process is gone. */
export function readLivePid(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return isAlive(pid) ? pid : undefined;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie (exited, not yet reaped by its parent) still answers kill(0); it is not serving.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return true;
  }
}

function ownRssKb(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? 0 : Number(kb);
  } catch {
    return 0;
  }
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * Resident memory in MiB of a process and its descendants (Linux /proc), or undefined when it is
 * gone. Descendants count because the ClickHouse launcher's engine runs in a child process.
 */
export function rssMiB(pid: number): number | undefined {
  const kb = sumOverTree(pid, ownRssKb);
  return kb === undefined ? undefined : Math.round(kb / 1024);
}

/** A live process and its descendants (Linux /proc), the process first; empty when it is gone. */
export function processTree(pid: number): number[] {
  if (!isAlive(pid)) return [];
  const tree: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.pop() as number;
    tree.push(next);
    queue.push(...childPids(next));
  }
  return tree;
}

/** `own` summed over a live process and its descendants, or undefined when the process is gone. */
function sumOverTree(pid: number, own: (pid: number) => number): number | undefined {
  const tree = processTree(pid);
  return tree.length === 0 ? undefined : tree.reduce((total, p) => total + own(p), 0);
}

/**
 * CPU time (user + system, seconds) a process and its live descendants have used so far (Linux
 * /proc/<pid>/stat utime + stime), or undefined when it is gone. The kernel reports these in
 * USER_HZ ticks, which is 100 on every Linux architecture Node runs on.
 */
export function cpuSeconds(pid: number): number | undefined {
  const ticks = sumOverTree(pid, ownCpuTicks);
  return ticks === undefined ? undefined : ticks / 100;
}

function ownCpuTicks(pid: number): number {
  try {
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat, i.e. 11 and 12 after the state (field 3).
    return Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
  } catch {
    return 0;
  }
}

export interface SpawnDetachedOptions {
  command: string;
  args: readonly string[];
  logFile: string;
  pidFile: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /**
   * Stop when the process that spawned it dies, however it dies (SIGKILL included): see TETHER. `'stdin'`: the
   * command itself exits at EOF on its stdin (our ClickHouse launcher with --exit-on-stdin-eof); `'wrap'`: a shell
   * between us and the command watches the pipe and SIGTERMs the command at EOF. Absent: it outlives us (`stack up`).
   */
  tether?: 'stdin' | 'wrap';
}

/**
 * The shell that tethers a command which does not watch its stdin (the Kafka JVM): `sh -c TETHER kaudit-tether CMD
 * ARGS…`. Node cannot ask the kernel to signal a child when its parent dies (no PR_SET_PDEATHSIG), but it can give
 * it a pipe: the kernel closes our end when we die, and the reader sees EOF. The shell keeps that pipe on fd 3
 * (the command gets /dev/null), a background reader waits for EOF on it and then SIGTERMs the command (SIGKILL 30 s
 * later). The shell itself is the PID recorded and stays until the command exited, so the PID file, isAlive and
 * stopPid (which signals the whole process group) mean the same as for the bare command; a SIGTERM/SIGINT to the
 * shell alone is passed on.
 */
const TETHER = [
  'exec 3<&0 </dev/null',
  '"$@" &',
  'engine=$!',
  '( while read -r _ <&3; do :; done; kill -TERM "$engine" 2>/dev/null; sleep 30; kill -KILL "$engine" 2>/dev/null ) &',
  'watcher=$!',
  'exec 3<&-',
  'trap \'kill -TERM "$engine" 2>/dev/null\' TERM INT',
  'while :; do wait "$engine"; status=$?; kill -0 "$engine" 2>/dev/null || break; done',
  'kill "$watcher" 2>/dev/null',
  'exit "$status"',
].join('\n');

/**
 * Starts a process in its own process group with output appended to a log file and its PID recorded, so it can be
 * stopped by PID — and, untethered, outlive the command that started it (`stack:up`).
 */
export function spawnDetached(options: SpawnDetachedOptions): number {
  const out = openSync(options.logFile, 'a');
  try {
    const [command, args] = options.tether === 'wrap' ? ['sh', ['-c', TETHER, 'kaudit-tether', options.command, ...options.args]] : [options.command, [...options.args]];
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true,
      // Tethered: our end of its stdin is never written, only held; the kernel closes it when this process dies.
      stdio: [options.tether === undefined ? 'ignore' : 'pipe', out, out],
    });
    if (child.pid === undefined) throw new KauditError('STACK_START_FAILED', `could not start ${options.command}`);
    child.unref();
    // Held, not read or written: it must not keep this process's event loop alive either.
    child.stdin?.on('error', () => undefined);
    (child.stdin as { unref?: () => void } | null)?.unref?.();
    writeFileSync(options.pidFile, `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(out);
  }
}

/** SIGTERM, wait up to `graceMs` for exit, then SIGKILL the whole group; removes the PID file. */
export async function stopPid(pid: number, pidFile: string, graceMs: number): Promise<'stopped' | 'killed'> {
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal); // the group: children such as the chdb worker go too
    } catch {
      try {
        process.kill(pid, signal);
      } catch {
        /* already gone */
      }
    }
  };
  signalGroup('SIGTERM');
  const deadline = Date.now() + graceMs;
  let outcome: 'stopped' | 'killed' = 'stopped';
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      signalGroup('SIGKILL');
      outcome = 'killed';
      await sleep(200);
      break;
    }
    await sleep(100);
  }
  rmSync(pidFile, { force: true });
  return outcome;
}

/** Resolves true when nothing listens on host:port. */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** An ephemeral port the OS considers free right now (tests use these, never the fixed defaults). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1' }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Last lines of a log file, for error messages that explain why an engine did not come up. */
export function tailFile(path: string, lines = 20): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
