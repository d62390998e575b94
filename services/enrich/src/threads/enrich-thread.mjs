// Worker-thread entry of the enrich pool (see enrich-threads.ts). Plain JavaScript so it loads in any worker,
// whatever loader flags the parent ran with. Built (dist/, the image) it imports the compiled module next to it;
// from a checkout it registers tsx itself to import the TypeScript one.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { workerData } from 'node:worker_threads';

const compiled = new URL('./thread-enricher.js', import.meta.url);
let createThreadEnricher;
if (existsSync(fileURLToPath(compiled))) {
  ({ createThreadEnricher } = await import(compiled.href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ createThreadEnricher } = await import('./thread-enricher.ts'));
}

// This thread's composition root: one enricher (its codec, identity cache, directory index) for every task.
const thread = createThreadEnricher(workerData);

export default thread.enrich;

/** Warms this thread's enricher at start (see createThreadEnricher). */
export function warmUp(w) {
  return thread.warmUp(w);
}

/** The schema this thread's codec writes: the pool checks it against the event loop's at start. */
export function fingerprint() {
  return thread.fingerprint;
}
