import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SERVICE_V8_FLAGS } from './service-node-args.js';

const DOCKERFILE = fileURLToPath(new URL('../../../Dockerfile', import.meta.url));

/** The V8 heap limit (MiB) of a node started with `flags`, in its main thread and in a worker thread. */
function heapLimits(flags: readonly string[], nodeOptions = ''): { main: number; worker: number } {
  const script = `
    const { Worker } = require('node:worker_threads');
    const limit = () => require('node:v8').getHeapStatistics().heap_size_limit / 1048576;
    const w = new Worker("require('node:worker_threads').parentPort.postMessage(require('node:v8').getHeapStatistics().heap_size_limit / 1048576)", { eval: true });
    w.once('message', (worker) => { console.log(JSON.stringify({ main: limit(), worker })); w.terminate(); });`;
  return JSON.parse(execFileSync(process.execPath, [...flags, '-e', script], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: nodeOptions } })) as { main: number; worker: number };
}

// Issue 16: without a limit V8 lets a heap grow to a quarter of the machine's memory (4 GiB here) long before it
// collects in earnest; every service must stay under 300 MiB RSS.
describe('the services\' V8 heap flags', () => {
  it('cap the heap of the main thread and of worker threads (ingest parses on workers) well under 300 MiB', () => {
    const unbounded = heapLimits([]);
    const bounded = heapLimits(SERVICE_V8_FLAGS);
    expect(bounded.main).toBeLessThanOrEqual(220);
    expect(bounded.worker).toBeLessThanOrEqual(220);
    expect(unbounded.main).toBeGreaterThan(bounded.main); // the flags are what bounds it, not this machine
  });

  it('are the image\'s NODE_OPTIONS, which cap the heap and which a deployment can replace', () => {
    const dockerfile = readFileSync(DOCKERFILE, 'utf8').split('\n');
    const env = dockerfile.find((l) => l.startsWith('ENV NODE_OPTIONS='));
    const nodeOptions = JSON.parse((env ?? 'ENV NODE_OPTIONS=""').slice('ENV NODE_OPTIONS='.length)) as string;
    expect(nodeOptions.split(' ')).toEqual([...SERVICE_V8_FLAGS]);
    expect(heapLimits([], nodeOptions).main).toBeLessThanOrEqual(220);
    // On the command line the flags would win over NODE_OPTIONS, and a chart's extraEnv could no longer raise them.
    const entrypoint = dockerfile.find((l) => l.startsWith('ENTRYPOINT')) ?? '';
    for (const flag of SERVICE_V8_FLAGS) expect(entrypoint).not.toContain(flag.split('=')[0]);
    expect(heapLimits([], '--max-old-space-size=400').main).toBeGreaterThan(400);
  });
});
