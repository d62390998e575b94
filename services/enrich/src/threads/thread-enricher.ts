import { AuditRecordCodec, type EventTimeWindow } from '@kaudit/audit-schema';
import { KauditError } from '@kaudit/errors';
import type { IncomingRecord } from '@kaudit/kafka';
import { deadLetterReason, type DeadLetterReason } from '../dead-letter-reason.js';
import { Enricher, type EnrichOutcome } from '../enricher.js';
import type { Actor } from '../identity/actor.js';
import { DirectoryIndex, type DirectoryDocument } from '../identity/directory.js';
import { IdentityResolver } from '../identity/identity-resolver.js';
import type { BuildOptions } from '../normalize/build-audit-record.js';
import { warmUpRawRecords } from '../warm-up-raw-records.js';
import { unpackRecords, type PackedRecords } from './packed-records.js';

/** What every enrich thread is started with (worker data: plain values). */
export interface ThreadSetup {
  options: BuildOptions;
  window: EventTimeWindow;
  /** An HTTP directory is configured: the records it would be asked about are handed back to the event loop, which owns it. */
  remote: boolean;
}

/** The directory file's current contents as JSON in shared memory, and a number that changes when they do. */
export interface SharedDirectory {
  version: number;
  json: Uint8Array;
}

export interface ThreadTask {
  records: PackedRecords;
  directory: SharedDirectory;
}

/** How one record came out. */
export const OUTCOME = { enriched: 0, deadLettered: 1, onEventLoop: 2 } as const;

/** A task's records enriched, in their order, as parallel arrays (one structured clone each, not one object a record). */
export interface ThreadOutcomes {
  kinds: Uint8Array;
  /** The enriched records' Avro bytes one after another (shared memory: not copied back). */
  bytes: Uint8Array;
  /** Each record's end in `bytes` (its start is the previous end). */
  ends: Int32Array;
  /** Kafka key, cluster and operation of each enriched record ('' for the others). */
  keys: string[];
  clusters: string[];
  operations: string[];
  /** Who resolved each record's identity, '' when none did (it failed before, or is left to the event loop): counted as on the event loop. */
  resolvedBy: (Actor['resolvedBy'] | '')[];
  /** Why each dead-lettered record is (null for the others). */
  reasons: (DeadLetterReason | null)[];
}

/** How long a thread warms up at start: at most this many events, or this long (ENRICH_WARM_UP_EVENTS / _MAX_MS). */
export interface ThreadWarmUp {
  events: number;
  maxMs: number;
}

/** Distinct sample events a thread warms up on (cycled): the demo generator's, as ingest writes them. */
const WARM_UP_SAMPLES = 1000;

/**
 * The enricher of one enrich thread: the same Enricher as the event loop's (decode, build, redact, leak check,
 * Avro) with its own codec, and an identity resolver over the directory file's contents as last shipped. A record
 * the HTTP directory would be asked about is left to the event loop (OUTCOME.onEventLoop): its resolver owns the
 * remote's cache, circuit breaker and metrics.
 */
export function createThreadEnricher(setup: ThreadSetup): { fingerprint: string; enrich: (task: ThreadTask) => ThreadOutcomes; warmUp: (w: ThreadWarmUp) => number } {
  let directory = DirectoryIndex.empty();
  let version = -1;
  let resolvedBy: Actor['resolvedBy'] | '' = '';
  const identity = new IdentityResolver({
    directory: () => directory,
    // Never called over the network: a record that would ask it is handed back (its Promise settles with this refusal).
    remote: setup.remote ? { lookup: () => Promise.reject(new KauditError('INTERNAL', 'the HTTP directory is asked on the event loop')) } : undefined,
    onResolved: (by) => {
      resolvedBy = by;
    },
  });
  const codec = new AuditRecordCodec();
  const enricher = new Enricher({ identity, codec, options: setup.options, window: setup.window });

  const enrich = (task: ThreadTask): ThreadOutcomes => {
    if (task.directory.version !== version) {
      const json = Buffer.from(task.directory.json.buffer, task.directory.json.byteOffset, task.directory.json.byteLength).toString('utf8');
      directory = new DirectoryIndex(JSON.parse(json) as DirectoryDocument);
      version = task.directory.version;
    }
    const records = unpackRecords(task.records);
    const n = records.length;
    const kinds = new Uint8Array(n);
    const ends = new Int32Array(n);
    const keys = new Array<string>(n).fill('');
    const clusters = new Array<string>(n).fill('');
    const operations = new Array<string>(n).fill('');
    const resolved = new Array<Actor['resolvedBy'] | ''>(n).fill('');
    const reasons = new Array<DeadLetterReason | null>(n).fill(null);
    const values: Buffer[] = [];
    let total = 0;
    for (let i = 0; i < n; i++) {
      resolvedBy = '';
      const outcome: EnrichOutcome | Promise<EnrichOutcome> = enricher.enrich(records[i] as (typeof records)[number]);
      if (outcome instanceof Promise) {
        // Settles with the lookup's refusal, handled inside enrich(); nothing waits for it.
        kinds[i] = OUTCOME.onEventLoop;
      } else if (outcome.ok) {
        kinds[i] = OUTCOME.enriched;
        const value = outcome.out.value as Buffer;
        values.push(value);
        total += value.length;
        keys[i] = outcome.out.key as string;
        clusters[i] = outcome.record.cluster;
        operations[i] = outcome.record.operation;
      } else {
        kinds[i] = OUTCOME.deadLettered;
        reasons[i] = deadLetterReason(outcome.error);
      }
      resolved[i] = resolvedBy;
      ends[i] = total;
    }
    // One copy of the Avro bytes into shared memory; the codec's slabs stay this thread's.
    const bytes = new Uint8Array(new SharedArrayBuffer(total));
    let pos = 0;
    for (const value of values) {
      bytes.set(value, pos);
      pos += value.length;
    }
    return { kinds, bytes, ends, keys, clusters, operations, resolvedBy: resolved, reasons };
  };
  /**
   * The event loop's warm-up does not reach this thread's code: cold, its first ~6,000 events cost ~5× their CPU
   * (0.76 s in all, measured). Sample events through an enricher sharing this one's codec (its compiled Avro
   * writer) with an identity cache of its own, so no sample identity stays cached; returns the events run.
   */
  const warmUp = (w: ThreadWarmUp): number => {
    if (w.events <= 0) return 0;
    const samples = warmUpRawRecords({ count: WARM_UP_SAMPLES, seed: 2 });
    const resolver = new IdentityResolver({ directory: () => directory });
    const warming = new Enricher({ identity: resolver, codec, options: setup.options, window: setup.window });
    const deadline = performance.now() + w.maxMs;
    let done = 0;
    while (done < w.events && performance.now() < deadline) {
      for (let i = 0; i < 100 && done < w.events; i++, done++) warming.enrich(samples[done % samples.length] as IncomingRecord);
    }
    return done;
  };
  return { fingerprint: codec.fingerprint, enrich, warmUp };
}
