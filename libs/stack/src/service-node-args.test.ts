import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SERVICE_V8_FLAGS } from './service-node-args.js';

const DOCKERFILE = fileURLToPath(new URL('../../../Dockerfile', import.meta.url));

/** The V8 heap limit (MiB) of a node started with `flags`, in its main thread and in a worker thread. */
function heapLimits(flags: readonly string[]): { main: number; worker: number } {
  const script = `
    const { Worker } = require('node:worker_threads');
    const limit = () => require('node:v8').getHeapStatistics().heap_size_limit / 1048576;
    const w = new Worker("require('node:worker_threads').parentPort.postMessage(require('node:v8').getHeapStatistics().heap_size_limit / 1048576)", { eval: true });
    w.once('message', (worker) => { console.log(JSON.stringify({ main: limit(), worker })); w.terminate(); });`;
  return JSON.parse(execFileSync(process.execPath, [...flags, '-e', script], { encoding: 'utf8' })) as { main: number; worker: number };
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

  it('are the ones the image\'s ENTRYPOINT starts every service with', () => {
    const line = readFileSync(DOCKERFILE, 'utf8').split('\n').find((l) => l.startsWith('ENTRYPOINT'));
    const entrypoint = JSON.parse((line ?? 'ENTRYPOINT []').slice('ENTRYPOINT'.length).trim()) as string[];
    expect(entrypoint).toEqual(expect.arrayContaining([...SERVICE_V8_FLAGS]));
  });
});
