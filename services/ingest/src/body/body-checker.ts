import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { threadId } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { EventTimeWindow } from '@kaudit/audit-schema';
import { KauditError } from '@kaudit/errors';
import type { Component } from '@kaudit/runtime';
import type { CheckedEvents } from '../publish/build-raw-records.js';
import { acceptedEvents, checkAuditBody, type CheckBodyTask, type CheckedBody, type EventBytes } from './check-audit-body.js';
import { sharedBytes } from './shared-bytes.js';

export interface BodyCheckerOptions {
  /** Worker threads parsing bodies; 0 parses on the event loop (tests, tiny deployments). */
  threads: number;
  maxDepth: number;
  maxEventBytes: number;
  /** Event times accepted (the rule enrich applies too). */
  window: EventTimeWindow;
  /** Each worker's V8 young generation, MiB (a third of it is one semi-space); defaults to PARSE_WORKER_YOUNG_GENERATION_MIB. */
  youngGenerationMiB?: number;
}

/**
 * A parse worker's young generation: 8 MiB semi-spaces, half the event loop's 16 (SERVICE_V8_FLAGS). A worker
 * keeps nothing between bodies — it parses one, hands back byte ranges and drops the parsed events — so a
 * smaller nursery only means more frequent scavenges of little that is live, while the 16 MiB ones it had
 * (the flag's, see start()) made it commit 32 MiB of nursery once busy: ingest's RSS peak was over its 300 MiB
 * (issue 16). Measured on a loaded 2-core machine, ingest at full load, 16 MiB semi-spaces (as before) / 8 / 4:
 * RSS peak 288–306 / 267–284 / 273–276 MiB over 2–5 runs each; the worker's CPU per event 19.7–22.4 / 18.8–20.9 /
 * 20.2–23.8 µs, no cost seen.
 */
export const PARSE_WORKER_YOUNG_GENERATION_MIB = 24;

/** Sizes of the V8 heap spaces of one thread, bytes, by space name (new_space, old_space, …). */
export type HeapSpaces = Record<string, number>;

/** This thread's (the worker's twin is in check-body-worker.mjs, which cannot import TypeScript in a checkout). */
function ownHeapSpaces(): HeapSpaces {
  return Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, s.space_size]));
}

/**
 * Parses and validates webhook bodies on a pool of worker threads (piscina), so the event loop only
 * moves bytes: HTTP in, Kafka out. JSON.parse plus validation cost ~20 µs per 1.6 KB event, a third
 * of the loop's time at full load; off the loop, the same process acknowledges more events per
 * second and its health endpoints stay responsive under load.
 */
export class BodyChecker implements Component {
  readonly name = 'body-checker';
  readonly #o: BodyCheckerOptions;
  #pool: Piscina<CheckBodyTask, unknown> | undefined;

  constructor(options: BodyCheckerOptions) {
    this.#o = options;
  }

  async start(): Promise<void> {
    if (this.#o.threads <= 0 || this.#pool) return;
    // node's --max-semi-space-size (SERVICE_V8_FLAGS, the image's NODE_OPTIONS) is a process-wide V8 flag, and V8
    // gives a flag precedence over a worker's resourceLimits: unset it (0, V8's "not set") before the workers'
    // isolates are made. The event loop's heap was sized from it at start-up and keeps that size.
    setFlagsFromString('--max-semi-space-size=0');
    this.#pool = new Piscina<CheckBodyTask, unknown>({
      filename: new URL('./check-body-worker.mjs', import.meta.url).href,
      minThreads: this.#o.threads,
      maxThreads: this.#o.threads,
      // The worker loads tsx itself; inheriting the parent's loader flags (tsx CLI, vitest) breaks it.
      // Only the resolution conditions pass on: built, `--conditions=kaudit-dist` makes the compiled
      // worker import the packages' dist/ too (the Dockerfile's ENTRYPOINT sets it).
      execArgv: process.execArgv.filter((arg) => arg.startsWith('--conditions=')),
      resourceLimits: { maxYoungGenerationSizeMb: this.#o.youngGenerationMiB ?? PARSE_WORKER_YOUNG_GENERATION_MIB },
    });
    // Fail at start, not on the first request, if the worker cannot load.
    await this.#pool.run(this.#task(Buffer.from('{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[]}'), Date.now()));
  }

  async stop(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.destroy();
  }

  #task(body: Buffer, receivedAtMs: number): CheckBodyTask {
    return { body, maxDepth: this.#o.maxDepth, maxEventBytes: this.#o.maxEventBytes, window: this.#o.window, receivedAtMs };
  }

  /** Worker threads checking bodies (0: on the event loop). */
  get threads(): number {
    return Math.max(0, this.#o.threads);
  }

  /** Parses and checks `body`, received at `receivedAtMs` (the reference of the event time window). */
  async check(body: Buffer, receivedAtMs: number): Promise<CheckedBody> {
    return this.#run(body, receivedAtMs, 'default') as Promise<CheckedBody>;
  }

  /**
   * check() naming the thread that ran it, for the start-up warm-up: the pool hands a task to an idle
   * worker, so `threads` of these at once on an idle pool run one on each worker.
   */
  async checkOnThread(body: Buffer, receivedAtMs: number): Promise<CheckedOnThread> {
    if (this.#o.threads <= 0) return { thread: threadId, checked: checkAuditBody(this.#task(body, receivedAtMs)) };
    return this.#run(body, receivedAtMs, 'checkOnThread') as Promise<CheckedOnThread>;
  }

  /** The V8 heap spaces of one parse worker (of the event loop when parsing there): what it holds, for diagnosis. */
  async heapSpaces(): Promise<HeapSpaces> {
    if (this.#o.threads <= 0) return ownHeapSpaces();
    if (!this.#pool) throw new KauditError('INTERNAL', 'body checker not started');
    return this.#pool.run(this.#task(Buffer.alloc(0), 0), { name: 'heapSpaces' }) as Promise<HeapSpaces>;
  }

  async #run(body: Buffer, receivedAtMs: number, name: 'default' | 'checkOnThread'): Promise<CheckedBody | CheckedOnThread> {
    const task = this.#task(body, receivedAtMs);
    if (this.#o.threads <= 0) return checkAuditBody(task);
    if (!this.#pool) throw new KauditError('INTERNAL', 'body checker not started');
    // The worker reads the body in shared memory: the caller's own when it is there already (readBody's
    // `shared`), else a shared copy. Either way the caller publishes the accepted events as ranges of its body.
    // What each named export of check-body-worker.mjs returns: `default` a CheckedBody, `checkOnThread` a CheckedOnThread.
    return this.#pool.run({ ...task, body: body.buffer instanceof SharedArrayBuffer ? body : sharedBytes(body) }, { name }) as Promise<CheckedBody | CheckedOnThread>;
  }
}

/** A check and the thread (worker_threads threadId) it ran on. */
export interface CheckedOnThread {
  thread: number;
  checked: CheckedBody;
}

/** The bytes an EventBytes names, as a Buffer (a view of `body` for a span). */
export function eventBuffer(body: Buffer, where: EventBytes): Buffer {
  return 'span' in where ? body.subarray(where.span[0], where.span[1]) : Buffer.from(where.bytes.buffer, where.bytes.byteOffset, where.bytes.byteLength);
}

/** A check's events as buffers of `body` again, ready for toRawRecords (the webhook and its warm-up). */
export function checkedEvents(body: Buffer, checked: Extract<CheckedBody, { ok: true }>): CheckedEvents {
  return {
    accepted: acceptedEvents(body, checked.accepted),
    rejected: checked.rejected.map((r) => ({ ...r, value: eventBuffer(body, r.value) })),
    truncated: checked.truncated,
  };
}
