import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { stopInOrder } from './start-services.js';

/** A real child process that runs until it is told to stop (no engine needed). */
const idle = (): ChildProcess => spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });

describe('stopInOrder', () => {
  it('stops every running service in order, and does not wait for one already gone — exited or killed by a signal', async () => {
    const crashed = spawn(process.execPath, ['-e', 'process.exit(3)'], { stdio: 'ignore' });
    const killed = idle();
    const running = [idle(), idle()];
    await once(crashed, 'exit');
    killed.kill('SIGKILL');
    await once(killed, 'exit');
    expect(killed.exitCode).toBeNull(); // what made the old check (exitCode only) wait for an exit already past

    const stopped: string[] = [];
    // Would never settle if a gone service were waited for; the race turns that into a failure, not a hang.
    const outcome = await Promise.race([
      stopInOrder([{ name: 'ingest', child: running[0] as ChildProcess }, { name: 'enrich', child: killed }, { name: 'sink', child: crashed }, { name: 'alert', child: running[1] as ChildProcess }], (n) => stopped.push(n)).then(() => 'stopped'),
      new Promise((resolve) => setTimeout(resolve, 60_000, 'still waiting')),
    ]);
    expect(outcome).toBe('stopped');
    expect(stopped).toEqual(['ingest', 'alert']);
    for (const c of running) expect(c.signalCode).toBe('SIGTERM');
  }, 90_000);
});
