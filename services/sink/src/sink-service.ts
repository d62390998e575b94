import { isKauditError } from '@kaudit/errors';
import type { BatchConsumer, ConsumerOptions, RecordBatch } from '@kaudit/kafka';
import type { Telemetry } from '@kaudit/logging';
import type { Component } from '@kaudit/runtime';
import type { BatchSink } from './batch-sink.js';

/** What the sink service hands the consumer it is built with: how it reports failures and pauses. */
export type SinkConsumerHooks = Required<Pick<ConsumerOptions, 'onHandlerError' | 'pauseWhileRetrying' | 'onFetchPaused' | 'onFetchResumed'>>;

/**
 * Runs the consumer with the BatchSink as its handler. While ClickHouse (or the DLQ) is unavailable the
 * consumer fetches nothing new: the failing batch is retried with backoff by the consumer, so memory stays at
 * the batches in hand instead of growing with the backlog. The pause lasts as long as a batch is being retried
 * (the consumer's pauseWhileRetrying): a rebalance that fences the retried batch ends it too, so the next owner's
 * fetch is not paused by a batch that is no longer anyone's.
 */
export class SinkService implements Component {
  readonly name = 'sink-consumer';
  readonly #consumer: BatchConsumer;
  readonly #sink: BatchSink;
  readonly #telemetry: Telemetry;

  /** `createConsumer` receives the hooks to pass in the consumer's options. */
  constructor(deps: {
    createConsumer: (hooks: SinkConsumerHooks) => BatchConsumer;
    sink: BatchSink;
    telemetry: Telemetry;
  }) {
    this.#telemetry = deps.telemetry;
    this.#consumer = deps.createConsumer({
      onHandlerError: (err, batch, attempt) => this.#onHandlerError(err, batch, attempt),
      // An outage (retryable) pauses fetching; a batch that fails for another reason does not hold up the others.
      pauseWhileRetrying: (err) => (isKauditError(err) ? err.retryable : true),
      onFetchPaused: (err) => this.#telemetry.emit({ event: 'consumer_paused', level: 'warn', fields: { reason: (err as Error).message } }),
      onFetchResumed: () => this.#telemetry.emit({ event: 'consumer_resumed' }),
    });
    this.#sink = deps.sink;
  }

  async start(): Promise<void> {
    await this.#consumer.start((batch, ctx) => this.#sink.handle(batch, ctx));
  }

  /** Resolves once the consumer has joined its group and got partitions (tests wait for it). */
  waitForAssignment(timeoutMs?: number): Promise<void> {
    return this.#consumer.waitForAssignment(timeoutMs);
  }

  #onHandlerError(err: unknown, batch: RecordBatch, attempt: number): void {
    this.#telemetry.emit({
      event: 'batch_failed_retrying',
      level: attempt === 1 ? 'warn' : 'debug',
      fields: { topic: batch.topic, partition: batch.partition, firstOffset: batch.firstOffset, attempt, code: isKauditError(err) ? err.code : 'UNKNOWN', error: (err as Error).message },
    });
  }

  async stop(): Promise<void> {
    // Writers flush on stop: fetches waiting for company are inserted (and committed) while this member still
    // owns their partitions; the consumer's stop fences anything after that, left for the next owner.
    await this.#sink.drain();
    await this.#consumer.stop();
  }
}
