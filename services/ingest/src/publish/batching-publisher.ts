import type { OutgoingRecord, Producer } from '@kaudit/kafka';

interface Pending {
  records: readonly OutgoingRecord[];
  bytes: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Coalesces concurrent publishes into fewer producer sends. The producer allows one in-flight request
 * per broker (idempotence), so while one send is in flight, requests arriving meanwhile are queued and
 * go out together in the next send; each caller resolves only when its own records are acknowledged.
 * At low load a publish goes out at once (no linger), so it adds no latency.
 */
export class BatchingPublisher {
  readonly #producer: Producer;
  readonly #topic: string;
  readonly #maxBatchBytes: number;
  readonly #queue: Pending[] = [];
  #sending = 0;
  readonly #maxConcurrentSends: number;

  constructor(deps: { producer: Producer; topic: string; maxBatchBytes?: number; maxConcurrentSends?: number }) {
    this.#producer = deps.producer;
    this.#topic = deps.topic;
    // Kafka's default max.message.bytes is ~1 MiB per batch per partition; a few MiB per send spans partitions.
    this.#maxBatchBytes = deps.maxBatchBytes ?? 4 * 1024 * 1024;
    this.#maxConcurrentSends = deps.maxConcurrentSends ?? 1;
  }

  get topic(): string {
    return this.#topic;
  }

  /** Resolves when every record is acknowledged by Kafka (acks=-1); rejects with the producer's error. */
  publish(records: readonly OutgoingRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    let bytes = 0;
    for (const r of records) bytes += r.value.length;
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ records, bytes, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#sending < this.#maxConcurrentSends && this.#queue.length > 0) {
      const batch: Pending[] = [];
      let bytes = 0;
      while (this.#queue.length > 0) {
        const next = this.#queue[0] as Pending;
        if (batch.length > 0 && bytes + next.bytes > this.#maxBatchBytes) break;
        batch.push(next);
        bytes += next.bytes;
        this.#queue.shift();
      }
      this.#sending++;
      const records = batch.length === 1 ? (batch[0] as Pending).records : batch.flatMap((p) => p.records);
      this.#producer
        .send(this.#topic, records)
        .then(
          () => batch.forEach((p) => p.resolve()),
          (err: unknown) => batch.forEach((p) => p.reject(err)),
        )
        .finally(() => {
          this.#sending--;
          this.#pump();
        });
    }
  }
}
