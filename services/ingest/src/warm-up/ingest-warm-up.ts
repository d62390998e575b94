import { Readable } from 'node:stream';
import type { CodecWarmUpResult, OutgoingRecord } from '@kaudit/kafka';
import type { WarmUpRound } from '@kaudit/runtime';
import { checkedEvents, type BodyChecker } from '../body/body-checker.js';
import { readBody, type ReadBodyOptions } from '../body/read-body.js';
import { toRawRecords } from '../publish/build-raw-records.js';
import { warmUpBodies } from './warm-up-samples.js';

/** The apiserver's default webhook batch (--audit-webhook-batch-max-size). */
const EVENTS_PER_BODY = 400;
/** Distinct bodies, taken in turn: every template meets every position and neighbour. */
const BODIES = 6;

export interface IngestWarmUpDeps {
  bodyChecker: BodyChecker;
  /** How the webhook reads bodies (its limits). */
  reading: Omit<ReadBodyOptions, 'gzip'>;
  /** What the webhook builds records with. */
  instance: string;
  maxEventBytes: number;
  /**
   * The Kafka client's produce-request encoding, run on the records a round built (KafkaClient.warmUpCodecs,
   * with the producer's codec): it encodes and decodes in this process and cannot send. Without it the
   * main thread's first sends encode cold.
   */
  warmUpCodecs?: (records: readonly OutgoingRecord[]) => Promise<CodecWarmUpResult>;
  now?: () => Date;
}

export interface IngestWarmUp {
  round: () => Promise<WarmUpRound>;
  /**
   * How many threads ran checks and the fewest events one of them checked (every worker warmed, not
   * one), how many sample bodies the configured limits refused whole (none with the defaults), and how
   * many records went through the Kafka client's encoding and back.
   */
  summary: () => Record<string, number>;
}

/**
 * One warm-up round of the webhook's path after authentication (issue 15 §1): sample bodies read as
 * the webhook reads a request (readBody), checked where it checks them — one body on each worker of
 * the pool at once, so each worker compiles the parse and check code itself (a warm event loop or one
 * warm worker does not warm the others) — then turned back into the buffers and raw records the
 * webhook builds (checkedEvents, toRawRecords), which are dropped. It writes nothing to Kafka, adds
 * nothing to the DLQ and counts nothing in the metrics: none of the pipeline's producer, dead letters
 * or metrics is in reach. The raw records built then go through the Kafka client's produce-request
 * encoding and back (warmUpCodecs: no broker, no socket), the main thread's other cold cost at the first
 * sends (kafkajs' Record/RecordBatch/crc32c/zstd). What stays cold is fastify's routing and the producer's
 * bookkeeping around a send, which only real traffic reaches.
 */
export function ingestWarmUp(deps: IngestWarmUpDeps): IngestWarmUp {
  const now = deps.now ?? (() => new Date());
  const perThread = new Map<number, number>();
  const counts = { refusedBodies: 0, rawRecords: 0, codecRecords: 0 };
  return {
    round: warmUpRound(deps, now, perThread, counts),
    summary: () => ({
      threads: perThread.size,
      fewestPerThread: perThread.size === 0 ? 0 : Math.min(...perThread.values()),
      refusedBodies: counts.refusedBodies,
      rawRecords: counts.rawRecords,
      codecRecords: counts.codecRecords,
    }),
  };
}

// Its own scope: the samples are held by the round alone, dropped with it when the warm-up ends.
function warmUpRound(deps: IngestWarmUpDeps, now: () => Date, perThread: Map<number, number>, counts: { refusedBodies: number; rawRecords: number; codecRecords: number }): () => Promise<WarmUpRound> {
  // Built at the first round (a service with the warm-up off never builds them).
  let bodies: Buffer[] | undefined;
  let next = 0;
  return async () => {
    bodies ??= fittingBodies(deps.reading.maxBytes, now().getTime());
    const samples = bodies;
    if (samples.length === 0) return { events: 0 };
    const picked = Array.from({ length: Math.max(1, deps.bodyChecker.threads) }, () => samples[next++ % samples.length] as Buffer);
    // Read first, then hand all to the pool at once: on an idle pool each check lands on another worker.
    const read = await Promise.all(picked.map((body) => readBody(Readable.from(chunks(body)), { ...deps.reading, gzip: false })));
    const receivedAt = now();
    const checked = await Promise.all(read.map(({ body }) => deps.bodyChecker.checkOnThread(body, receivedAt.getTime())));
    let events = 0;
    let outputs = 0;
    const records: OutgoingRecord[] = [];
    checked.forEach(({ thread, checked: result }, i) => {
      // Limits stricter than the samples (INGEST_MAX_JSON_DEPTH): nothing of it was warmed; a start must not fail for it.
      if (!result.ok) {
        counts.refusedBodies++;
        return;
      }
      const n = result.accepted.count + result.rejected.length;
      perThread.set(thread, (perThread.get(thread) ?? 0) + n);
      const built = toRawRecords(checkedEvents((read[i] as { body: Buffer }).body, result), { cluster: 'warm-up', receivedAt, source: 'webhook', instance: deps.instance, maxEventBytes: deps.maxEventBytes });
      events += n;
      // Events that made it into raw records (several a record: raw.v2); the records themselves are counted apart.
      outputs += built.accepted;
      counts.rawRecords += built.records.length;
      records.push(...built.records);
    });
    if (deps.warmUpCodecs !== undefined) counts.codecRecords += (await deps.warmUpCodecs(records)).records;
    return { events, outputs };
  };
}

/**
 * The sample bodies, with fewer events each when 400 would not fit the webhook's body limit
 * (INGEST_MAX_BODY_BYTES): what the webhook would refuse with a 413 warms nothing. Bodies that do not
 * fit even so are left out; with none left the warm-up has nothing to run and ends.
 */
function fittingBodies(maxBytes: number, nowMs: number): Buffer[] {
  for (let perBody = EVENTS_PER_BODY; ; ) {
    const bodies = warmUpBodies({ bodies: BODIES, perBody, nowMs });
    const largest = Math.max(...bodies.map((b) => b.length));
    if (largest <= maxBytes || perBody === 1) return bodies.filter((b) => b.length <= maxBytes);
    perBody = Math.max(1, Math.floor(((perBody * maxBytes) / largest) * 0.9));
  }
}

/** A body in the pieces a socket delivers (64 KiB), so readBody joins chunks as it does for a request. */
function chunks(body: Buffer): Buffer[] {
  const size = 64 * 1024;
  return Array.from({ length: Math.ceil(body.length / size) }, (_, i) => body.subarray(i * size, (i + 1) * size));
}
