import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { cpuSeconds, processTree } from './process-control.js';

describe('cpuSeconds', () => {
  it('counts the user + system time a busy process used, as the process itself measures it', async () => {
    // A child that spins until it used 0.5 s of CPU (by its own count, not the wall clock: the machine is
    // shared), reports its process.cpuUsage(), then waits to be read.
    const child = spawn(process.execPath, ['-e', 'const c=()=>{const u=process.cpuUsage();return (u.user+u.system)/1e6};while(c()<0.5);console.log(c());setTimeout(()=>{},60000)'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const [line] = (await once(child.stdout, 'data')) as [Buffer];
      const own = Number(line.toString().trim());
      const seen = cpuSeconds(child.pid as number) as number;
      expect(own).toBeGreaterThan(0.4);
      // Ticks are 10 ms; the child also spent a little CPU between measuring and being read.
      expect(seen).toBeGreaterThanOrEqual(own - 0.05);
      expect(seen).toBeLessThan(own + 1);
    } finally {
      child.kill('SIGKILL');
    }
  }, 30_000); // 0.5 s of CPU can take many seconds of wall time on a shared machine

  it('is undefined for a process that is gone', async () => {
    const child = spawn(process.execPath, ['-e', '0']);
    await once(child, 'exit');
    expect(cpuSeconds(child.pid as number)).toBeUndefined();
  });
});

describe('processTree', () => {
  it('lists a process and its descendants, the process first: the engines run their work in children', async () => {
    // A shell whose child prints its own PID, then waits (as the Kafka tether's shell waits on the JVM).
    const shell = spawn('sh', ['-c', 'sh -c \'echo $$; exec sleep 60\' & wait'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let grandchild: number | undefined;
    try {
      const [line] = (await once(shell.stdout, 'data')) as [Buffer];
      grandchild = Number(line.toString().trim());
      const tree = processTree(shell.pid as number);
      expect(tree[0]).toBe(shell.pid);
      expect(tree).toContain(grandchild);
      expect(processTree(grandchild)).toEqual([grandchild]);
    } finally {
      shell.kill('SIGKILL');
      if (grandchild !== undefined) process.kill(grandchild, 'SIGKILL');
    }
  });

  it('is empty for a process that is gone', async () => {
    const child = spawn(process.execPath, ['-e', '0']);
    await once(child, 'exit');
    expect(processTree(child.pid as number)).toEqual([]);
  });
});
