import type { OutgoingRecord, Producer } from '@kaudit/kafka';

interface Pending {
  records: readonly OutgoingRecord[];
  bytes: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Headers' share of a record's size (names, values, framing). */
function headerBytes(headers: Readonly<Record<string, string | Buffer>> | undefined): number {
  let bytes = 0;
  for (const name in headers) bytes += name.length + (headers[name]?.length ?? 0) + 8;
  return bytes;
}

/**
 * Record sizes as the broker counts them, roughly: value, key, headers and per-record framing. The records of
 * one publish share one header object (toRawRecords), so its size is counted once, not once per record.
 */
function recordSizer(): (r: OutgoingRecord) => number {
  let lastHeaders: OutgoingRecord['headers'];
  let lastBytes = 0;
  return (r) => {
    if (r.headers !== lastHeaders) {
      lastHeaders = r.headers;
      lastBytes = headerBytes(r.headers);
    }
    return r.value.length + (r.key?.length ?? 0) + 64 + lastBytes;
  };
}

/**
 * Publishes records to one topic in producer sends of bounded size, coalescing concurrent callers.
 *
 * - Coalescing: at most `maxConcurrentSends` sends are outstanding (2: one on the wire, the next
 *   being encoded, since the idempotent producer keeps one request in flight per broker anyway);
 *   publishes arriving meanwhile queue up and go out together in the next send. At low load a publish
 *   goes out at once (no linger), so it adds no latency. Without coalescing every publish is its own
 *   send, all outstanding at once (the benchmark's "before").
 * - Bounded sends: every record of one user of a cluster has the same key, hence the same partition
 *   (a body of one busy controller is all one partition), and the broker refuses a partition batch
 *   over `message.max.bytes` (1 MiB by default). A large webhook
 *   body is therefore split across sends; its caller resolves once all of them are acknowledged.
 */
export class BatchingPublisher {
  readonly #producer: Producer;
  readonly #topic: string;
  readonly #maxBatchBytes: number;
  readonly #coalesce: boolean;
  readonly #maxConcurrentSends: number;
  readonly #queue: Pending[] = [];
  #sending = 0;

  constructor(deps: { producer: Producer; topic: string; maxBatchBytes?: number; coalesce?: boolean; maxConcurrentSends?: number }) {
    this.#producer = deps.producer;
    this.#topic = deps.topic;
    this.#coalesce = deps.coalesce ?? true;
    this.#maxConcurrentSends = this.#coalesce ? (deps.maxConcurrentSends ?? 2) : Number.POSITIVE_INFINITY;
    // Under the broker's default message.max.bytes (1 MiB) with room for batch framing.
    this.#maxBatchBytes = deps.maxBatchBytes ?? 900 * 1024;
  }

  get topic(): string {
    return this.#topic;
  }

  /** Resolves when every record is acknowledged by Kafka (acks=-1); rejects with the producer's error. */
  async publish(records: readonly OutgoingRecord[]): Promise<void> {
    if (records.length === 0) return;
    const parts: Promise<void>[] = [];
    let chunk: OutgoingRecord[] = [];
    let bytes = 0;
    const enqueue = () => {
      const part = { records: chunk, bytes };
      parts.push(new Promise<void>((resolve, reject) => this.#queue.push({ ...part, resolve, reject })));
      chunk = [];
      bytes = 0;
    };
    const recordBytes = recordSizer();
    for (const r of records) {
      const size = recordBytes(r);
      if (chunk.length > 0 && bytes + size > this.#maxBatchBytes) enqueue();
      chunk.push(r);
      bytes += size;
    }
    enqueue();
    this.#pump();
    // allSettled first: every part must be settled before answering, and none may reject unobserved.
    const outcomes = await Promise.allSettled(parts);
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) throw failed.reason;
  }

  #pump(): void {
    while (this.#sending < this.#maxConcurrentSends && this.#queue.length > 0) {
      const batch: Pending[] = [];
      let bytes = 0;
      while (this.#queue.length > 0) {
        const next = this.#queue[0] as Pending;
        if (batch.length > 0 && (!this.#coalesce || bytes + next.bytes > this.#maxBatchBytes)) break;
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
