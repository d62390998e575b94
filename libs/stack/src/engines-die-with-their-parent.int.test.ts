/**
 * The engines a test run, the bench or `npm start` starts stop when that process dies, however it dies: a vitest
 * killed with SIGKILL (or a SIGINT that skips its teardown) left a Kafka JVM and a ClickHouse behind each time,
 * piling up on a 2-core machine. `kaudit stack up` is the exception: its engines are meant to outlive it.
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { uniqueName } from '@kaudit/testkit';
import { isAlive } from './process-control.js';
import { serviceNodeArgs } from './service-node-args.js';

const root = fileURLToPath(new URL('../../../.kaudit', import.meta.url));
const parentScript = fileURLToPath(new URL('./test-support/stack-parent.ts', import.meta.url));

/** A process and all its descendants (Linux /proc): the Kafka JVM under its tether shell, chdb under its launcher. */
function tree(pid: number): number[] {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // gone
  }
  return [pid, ...children.flatMap(tree)];
}

/** Starts stack-parent.ts and resolves, once its engines serve, with the parent and every engine process. */
async function startParent(name: string, outlive: boolean): Promise<{ parent: ReturnType<typeof spawn>; engines: number[]; groups: number[] }> {
  const parent = spawn(process.execPath, [...serviceNodeArgs(parentScript), root, name, ...(outlive ? ['outlive'] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: parent.stdout as NodeJS.ReadableStream });
  const exited = new Promise<never>((_, reject) => parent.once('exit', (code) => reject(new Error(`stack-parent exited with ${code} before its engines served`))));
  const first = await Promise.race([new Promise<string>((resolve) => lines.once('line', resolve)), exited]);
  lines.close();
  const groups = (JSON.parse(first) as { pids: (number | null)[] }).pids.filter((p): p is number => typeof p === 'number');
  return { parent, engines: groups.flatMap(tree), groups };
}

/** Waits, generously, until none of the processes is alive; returns those still alive then. */
async function survivorsAfter(pids: readonly number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(isAlive) && Date.now() < deadline) await sleep(500);
  return pids.filter(isAlive);
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** Whatever the outcome, nothing of this test is left running: the parent, and each engine's whole process group. */
function killAllAfterwards(name: string, parent: ReturnType<typeof spawn>, groups: readonly number[]): void {
  cleanups.push(() => {
    parent.kill('SIGKILL');
    for (const pid of groups) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(join(root, 'stack', name), { recursive: true, force: true });
  });
}

describe('local engines and the process that started them', () => {
  it('stop within a minute when that process is SIGKILLed', async () => {
    const name = uniqueName('tether');
    const { parent, engines, groups } = await startParent(name, false);
    killAllAfterwards(name, parent, groups);
    // Both engines (the Kafka JVM, ClickHouse's launcher and its chdb child, and whatever tethers them), alive while it runs.
    expect(groups).toHaveLength(2);
    expect(engines.length).toBeGreaterThanOrEqual(3);
    expect(engines.filter(isAlive)).toEqual(engines);
    parent.kill('SIGKILL');
    expect(await survivorsAfter(engines, 60_000)).toEqual([]);
  });

  it('keep running after it, when started to outlive it (`kaudit stack up`)', async () => {
    const name = uniqueName('outlive');
    const { parent, engines, groups } = await startParent(name, true);
    killAllAfterwards(name, parent, groups);
    parent.kill('SIGKILL');
    await new Promise((resolve) => parent.once('exit', resolve));
    // As long as the first case allows its engines to stop: if they were tethered they would be gone by then.
    await sleep(20_000);
    expect(engines.filter(isAlive)).toEqual(engines);
  });
});
