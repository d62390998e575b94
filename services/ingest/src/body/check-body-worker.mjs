// Worker-thread entry of the body-check pool (see body-checker.ts). Plain JavaScript so it loads in
// any worker, whatever loader flags the parent ran with. Built (dist/, the image) it imports the
// compiled module next to it; from a checkout it registers tsx itself to import the TypeScript one.
import { existsSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';
import { fileURLToPath } from 'node:url';
import { threadId } from 'node:worker_threads';

const compiled = new URL('./check-audit-body.js', import.meta.url);
let checkAuditBody;
if (existsSync(fileURLToPath(compiled))) {
  ({ checkAuditBody } = await import(compiled.href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ checkAuditBody } = await import('./check-audit-body.ts'));
}

export default checkAuditBody;

/** The same check, naming the thread that ran it: ingest's warm-up (ingest-warm-up.ts) shows it warmed every worker. */
export function checkOnThread(task) {
  return { thread: threadId, checked: checkAuditBody(task) };
}

/** This worker's V8 heap spaces, bytes by name (BodyChecker.heapSpaces). */
export function heapSpaces() {
  return Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, s.space_size]));
}
