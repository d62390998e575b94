import { isKauditError } from '@kaudit/errors';
import type { BatchConsumer, RecordBatch } from '@kaudit/kafka';
import type { Telemetry } from '@kaudit/logging';
import type { Component } from '@kaudit/runtime';
import type { BatchSink } from './batch-sink.js';

/**
 * Runs the consumer with the BatchSink as its handler. While ClickHouse (or the DLQ) is unavailable the
 * consumer is paused: the failing batch is retried with backoff by the consumer, and nothing new is fetched,
 * so memory stays at the batch in hand instead of growing with the backlog. The first success resumes it.
 */
export class SinkService implements Component {
  readonly name = 'sink-consumer';
  readonly #consumer: BatchConsumer;
  readonly #sink: BatchSink;
  readonly #telemetry: Telemetry;

  /** `createConsumer` receives the error hook to pass as the consumer's onHandlerError. */
  constructor(deps: {
    createConsumer: (onHandlerError: (err: unknown, batch: RecordBatch, attempt: number) => void) => BatchConsumer;
    sink: BatchSink;
    telemetry: Telemetry;
  }) {
    this.#consumer = deps.createConsumer((err, batch, attempt) => this.#onHandlerError(err, batch, attempt));
    this.#sink = deps.sink;
    this.#telemetry = deps.telemetry;
  }

  async start(): Promise<void> {
    await this.#consumer.start(async (batch, ctx) => {
      await this.#sink.handle(batch, ctx);
      if (this.#consumer.isPaused()) {
        this.#consumer.resume();
        this.#telemetry.emit({ event: 'consumer_resumed', fields: { topic: batch.topic, partition: batch.partition } });
      }
    });
  }

  /** Resolves once the consumer has joined its group and got partitions (tests wait for it). */
  waitForAssignment(timeoutMs?: number): Promise<void> {
    return this.#consumer.waitForAssignment(timeoutMs);
  }

  #onHandlerError(err: unknown, batch: RecordBatch, attempt: number): void {
    const retryable = isKauditError(err) ? err.retryable : true;
    this.#telemetry.emit({
      event: 'batch_failed_retrying',
      level: attempt === 1 ? 'warn' : 'debug',
      fields: { topic: batch.topic, partition: batch.partition, firstOffset: batch.firstOffset, attempt, code: isKauditError(err) ? err.code : 'UNKNOWN', error: (err as Error).message },
    });
    if (retryable && !this.#consumer.isPaused()) {
      this.#consumer.pause();
      this.#telemetry.emit({ event: 'consumer_paused', level: 'warn', fields: { reason: (err as Error).message } });
    }
  }

  async stop(): Promise<void> {
    // Writers flush on stop: fetches waiting for company are inserted (and committed) while this member still
    // owns their partitions; the consumer's stop fences anything after that, left for the next owner.
    await this.#sink.drain();
    await this.#consumer.stop();
  }
}
