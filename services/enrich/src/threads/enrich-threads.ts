import { Piscina } from 'piscina';
import { SCHEMA_FINGERPRINT_HEADER } from '@kaudit/audit-schema';
import { KauditError } from '@kaudit/errors';
import { RAW_HEADERS, type IncomingRecord, type OutgoingRecord } from '@kaudit/kafka';
import type { Component } from '@kaudit/runtime';
import type { DeadLetterReason } from '../dead-letter-reason.js';
import type { Actor } from '../identity/actor.js';
import type { DirectoryIndex } from '../identity/directory.js';
import { packedSize, packRecords } from './packed-records.js';
import { OUTCOME, type SharedDirectory, type ThreadOutcomes, type ThreadSetup, type ThreadTask, type ThreadWarmUp } from './thread-enricher.js';

export interface EnrichThreadsOptions {
  /** Threads enriching records off the event loop. */
  threads: number;
  setup: ThreadSetup;
  /** The directory file's current contents (the threads get each new index once, as JSON in shared memory). */
  directory: () => DirectoryIndex;
  /** The schema fingerprint the event loop's codec writes in the header: the threads' codec must write the same schema. */
  fingerprint: string;
  /** Each thread, at start, before start() resolves (so before the consumer starts): sample events through its enricher. */
  warmUp: ThreadWarmUp;
}

/** One record enriched on a thread: its produced record, why it is dead-lettered, or left to the event loop (the HTTP directory is asked). */
export type ThreadOutcome =
  | { kind: 'enriched'; out: OutgoingRecord; operation: string; resolvedBy: Actor['resolvedBy'] }
  | { kind: 'dead-lettered'; reason: DeadLetterReason; resolvedBy: Actor['resolvedBy'] | '' }
  | { kind: 'on-event-loop' };

/**
 * Enriches records on a pool of worker threads (piscina), so the event loop only moves bytes — fetch,
 * produce, commit — while another core parses, redacts and encodes (issue 16: the Kafka client's own work
 * on the loop was 28 µs an event, enrich's on top of it ~18). A batch goes to one thread as a whole; its
 * outcomes come back in its order, so per-key order and the handler's produce-then-commit are unchanged.
 */
export class EnrichThreads implements Component {
  readonly name = 'enrich-threads';
  readonly #o: EnrichThreadsOptions;
  /** Tasks: ThreadTask → ThreadOutcomes (the default), and the named 'fingerprint' and 'warmUp'. */
  #pool: Piscina<ThreadTask | ThreadWarmUp, unknown> | undefined;
  #shipped: { index: DirectoryIndex; directory: SharedDirectory } | undefined;
  /**
   * Shared memory the records of a batch are copied into, reused once its thread is done with it (one a batch in
   * flight: ENRICH_PARTITIONS_CONCURRENTLY at most), so each batch is copied into memory already mapped.
   */
  readonly #scratch: Uint8Array[] = [];

  /** The fingerprint header's bytes, made once (as the event loop's Enricher does). */
  readonly #fingerprint: Buffer;

  constructor(options: EnrichThreadsOptions) {
    this.#o = options;
    this.#fingerprint = Buffer.from(options.fingerprint);
  }

  async start(): Promise<void> {
    if (this.#pool) return;
    this.#pool = new Piscina<ThreadTask | ThreadWarmUp, unknown>({
      filename: new URL('./enrich-thread.mjs', import.meta.url).href,
      minThreads: this.#o.threads,
      maxThreads: this.#o.threads,
      workerData: this.#o.setup,
      // The thread loads tsx itself; inheriting the parent's loader flags (tsx CLI, vitest) breaks it. Only the
      // resolution conditions pass on: built, `--conditions=kaudit-dist` makes it import the packages' dist/.
      execArgv: process.execArgv.filter((arg) => arg.startsWith('--conditions=')),
    });
    // Fail at start, not on the first batch, if a thread cannot load or writes another schema.
    const fingerprint = await this.#pool.run(this.#task([], new Uint8Array(0)), { name: 'fingerprint' });
    if (fingerprint !== this.#o.fingerprint) {
      await this.stop();
      throw new KauditError('INTERNAL', `enrich thread writes schema ${String(fingerprint)}, the event loop ${this.#o.fingerprint}`);
    }
    // As many at once as threads: an idle pool hands each to another thread (piscina), so every one is warmed.
    const pool = this.#pool;
    await Promise.all(Array.from({ length: this.#o.threads }, () => pool.run(this.#o.warmUp, { name: 'warmUp' })));
  }

  async stop(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.destroy();
  }

  /** The records' outcomes, in their order. Rejects when the thread fails: the batch is then retried, never skipped. */
  async enrich(records: readonly IncomingRecord[]): Promise<ThreadOutcome[]> {
    const pool = this.#pool;
    if (!pool) throw new KauditError('INTERNAL', 'enrich threads not started');
    const size = packedSize(records);
    let scratch = this.#scratch.pop();
    // A quarter more than needed: the next batches, a little larger, still fit.
    if (scratch === undefined || scratch.length < size) scratch = new Uint8Array(new SharedArrayBuffer(Math.ceil(size * 1.25)));
    try {
      return unpackOutcomes((await pool.run(this.#task(records, scratch))) as ThreadOutcomes, this.#fingerprint);
    } finally {
      this.#scratch.push(scratch);
    }
  }

  #task(records: readonly IncomingRecord[], scratch: Uint8Array): ThreadTask {
    const index = this.#o.directory();
    if (this.#shipped?.index !== index) {
      const text = Buffer.from(JSON.stringify(index.document));
      const json = new Uint8Array(new SharedArrayBuffer(text.length));
      json.set(text);
      this.#shipped = { index, directory: { version: (this.#shipped?.directory.version ?? 0) + 1, json } };
    }
    return { records: packRecords(records, scratch), directory: this.#shipped.directory };
  }
}

function unpackOutcomes(o: ThreadOutcomes, fingerprint: Buffer): ThreadOutcome[] {
  const bytes = Buffer.from(o.bytes.buffer, o.bytes.byteOffset, o.bytes.byteLength);
  const outcomes = new Array<ThreadOutcome>(o.kinds.length);
  let start = 0;
  for (let i = 0; i < o.kinds.length; i++) {
    const end = o.ends[i] as number;
    const kind = o.kinds[i];
    if (kind === OUTCOME.enriched) {
      outcomes[i] = {
        kind: 'enriched',
        out: { key: o.keys[i] as string, value: bytes.subarray(start, end), headers: { [SCHEMA_FINGERPRINT_HEADER]: fingerprint, [RAW_HEADERS.cluster]: o.clusters[i] as string } },
        operation: o.operations[i] as string,
        resolvedBy: o.resolvedBy[i] as Actor['resolvedBy'],
      };
    } else if (kind === OUTCOME.deadLettered) {
      outcomes[i] = { kind: 'dead-lettered', reason: o.reasons[i] as DeadLetterReason, resolvedBy: o.resolvedBy[i] as Actor['resolvedBy'] | '' };
    } else {
      outcomes[i] = { kind: 'on-event-loop' };
    }
    start = end;
  }
  return outcomes;
}
