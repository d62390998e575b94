import type { EventTimeWindow } from '@kaudit/audit-schema';
import { RAW_HEADERS, type DeadLetterReason } from '@kaudit/kafka';
import type { BatchingPublisher } from './publish/batching-publisher.js';
import { checkEvents, toRawRecords, type CheckedEvents, type IngestSource, type RejectedEvent } from './publish/build-raw-records.js';
import type { DeadLetters } from './publish/dead-letters.js';
import type { IngestMetrics } from './ingest-metrics.js';

export interface IngestContext {
  cluster: string;
  source: IngestSource;
  receivedAt: Date;
}

export interface IngestResult {
  accepted: number;
  rejected: number;
  truncated: number;
  /** Why each rejected event was refused (index within the batch), for the response body / import summary. */
  errors: { index: number; problem: RejectedEvent['problem']; reason: string }[];
}

/**
 * The one validation + publishing path of ingest, shared by the webhook (source=webhook) and
 * `kaudit import` (source=import): valid events go to the raw topic, invalid ones to the DLQ, and it
 * resolves only when Kafka acknowledged both. Rejects (KAFKA_UNAVAILABLE) when either did not land.
 */
export class IngestPipeline {
  readonly #publisher: BatchingPublisher;
  readonly #deadLetters: DeadLetters;
  readonly #instance: string;
  readonly #maxEventBytes: number;
  readonly #metrics: IngestMetrics | undefined;
  readonly #window: EventTimeWindow;

  constructor(deps: { publisher: BatchingPublisher; deadLetters: DeadLetters; instance: string; maxEventBytes: number; window: EventTimeWindow; metrics?: IngestMetrics }) {
    this.#window = deps.window;
    this.#publisher = deps.publisher;
    this.#deadLetters = deps.deadLetters;
    this.#instance = deps.instance;
    this.#maxEventBytes = deps.maxEventBytes;
    this.#metrics = deps.metrics;
  }

  /** The event times accepted: what a caller checking events itself (import's worker threads) applies. */
  get window(): EventTimeWindow {
    return this.#window;
  }

  /** Events larger than this are published without their request/response objects. */
  get maxEventBytes(): number {
    return this.#maxEventBytes;
  }

  /** `originals`: each event's bytes as received, by index, published as-is when present. */
  async ingestEvents(items: readonly unknown[], ctx: IngestContext, originals: readonly (Buffer | undefined)[] = []): Promise<IngestResult> {
    return this.ingestChecked(checkEvents(items, this.#maxEventBytes, originals, { window: this.#window, referenceMs: ctx.receivedAt.getTime() }), ctx);
  }

  /** Publishes events already validated (by checkEvents, possibly on a worker thread). */
  async ingestChecked(checked: CheckedEvents, ctx: IngestContext): Promise<IngestResult> {
    const built = toRawRecords(checked, { cluster: ctx.cluster, receivedAt: ctx.receivedAt, source: ctx.source, instance: this.#instance, maxEventBytes: this.#maxEventBytes });
    const began = performance.now();
    const published = this.#publisher.publish(built.records).then(() => {
      this.#metrics?.produceSeconds.observe({ topic: this.#publisher.topic }, (performance.now() - began) / 1000);
    });
    const deadLettered = Promise.all(
      built.rejected.map((r) =>
        this.deadLetter(r.value, ctx, { code: r.code, message: `event ${r.index}: ${r.reason}`, stage: 'validate-event' }),
      ),
    );
    // Both must settle before answering: an unawaited rejection would be unhandled, and the answer must cover both.
    const [p, d] = await Promise.allSettled([published, deadLettered]);
    if (p.status === 'rejected') throw p.reason;
    if (d.status === 'rejected') throw d.reason;
    const m = this.#metrics;
    if (m) {
      const labels = { cluster: ctx.cluster, source: ctx.source };
      m.events.inc({ ...labels, outcome: 'accepted' }, built.accepted);
      if (built.rejected.length > 0) m.events.inc({ ...labels, outcome: 'rejected' }, built.rejected.length);
      if (built.truncated > 0) m.events.inc({ ...labels, outcome: 'truncated' }, built.truncated);
      for (const r of built.rejected) m.refused.inc({ ...labels, problem: r.problem });
    }
    return {
      accepted: built.accepted,
      rejected: built.rejected.length,
      truncated: built.truncated,
      errors: built.rejected.map((r) => ({ index: r.index, problem: r.problem, reason: r.reason })),
    };
  }

  /** Keeps bytes that could not be ingested in the DLQ (once per distinct body), with why. */
  async deadLetter(value: Buffer, ctx: { cluster: string | undefined; source: IngestSource; receivedAt: Date }, reason: DeadLetterReason): Promise<'written' | 'duplicate'> {
    const outcome = await this.#deadLetters.send(
      { value, cluster: ctx.cluster, headers: { [RAW_HEADERS.source]: ctx.source, [RAW_HEADERS.receivedAt]: ctx.receivedAt.toISOString(), [RAW_HEADERS.instance]: this.#instance } },
      reason,
    );
    if (outcome === 'written') this.#metrics?.events.inc({ cluster: ctx.cluster ?? 'unknown', source: ctx.source, outcome: 'dead_lettered' });
    return outcome;
  }
}
