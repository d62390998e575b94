import type { OutgoingRecord, Producer } from '@kaudit/kafka';

/** One publish() call: its records go out in order, in one or more sends, and it settles when all of them did. */
interface Pending {
  records: readonly OutgoingRecord[];
  sizes: number[];
  /** Index of its first record not yet in a send. */
  next: number;
  /** Sends carrying some of its records that have not settled yet. */
  unsettled: number;
  /** The first failure of one of its sends: it rejects with it once all of them settled. */
  failure: { err: unknown } | undefined;
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
function recordSizes(records: readonly OutgoingRecord[]): number[] {
  let lastHeaders: OutgoingRecord['headers'];
  let lastBytes = 0;
  return records.map((r) => {
    if (r.headers !== lastHeaders) {
      lastHeaders = r.headers;
      lastBytes = headerBytes(r.headers);
    }
    return r.value.length + (r.key?.length ?? 0) + 64 + lastBytes;
  });
}

/**
 * Publishes records to one topic in producer sends of bounded size, coalescing concurrent callers.
 *
 * - Coalescing: at most `maxConcurrentSends` sends are outstanding (2: one on the wire, the next
 *   being encoded, since the idempotent producer keeps one request in flight per broker anyway);
 *   publishes arriving meanwhile queue up and go out together in the next send, which is filled up to
 *   the bound record by record (a publish may end in one send and go on in the next), so a send is not
 *   cut short where a publish ends: fewer, fuller sends (issue 15 §3). At low load a publish goes out at
 *   once (no linger), so it adds no latency. Without coalescing every publish is its own sends, all
 *   outstanding at once (the benchmark's "before").
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
    const sizes = recordSizes(records);
    await new Promise<void>((resolve, reject) => {
      this.#queue.push({ records, sizes, next: 0, unsettled: 0, failure: undefined, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#sending < this.#maxConcurrentSends && this.#queue.length > 0) {
      const records: OutgoingRecord[] = [];
      const carried: Pending[] = [];
      let bytes = 0;
      while (this.#queue.length > 0) {
        const p = this.#queue[0] as Pending;
        // Without coalescing a send carries records of one publish only.
        if (!this.#coalesce && carried.length > 0) break;
        const from = p.next;
        for (; p.next < p.records.length; p.next++) {
          const size = p.sizes[p.next] as number;
          // A record over the bound still goes, alone.
          if (records.length > 0 && bytes + size > this.#maxBatchBytes) break;
          records.push(p.records[p.next] as OutgoingRecord);
          bytes += size;
        }
        if (p.next > from) {
          carried.push(p);
          p.unsettled++;
        }
        if (p.next < p.records.length) break; // this send is full; the rest of p goes in the next
        this.#queue.shift();
      }
      this.#sending++;
      const settle = (err?: { err: unknown }) => {
        for (const p of carried) {
          p.unsettled--;
          if (err !== undefined && p.failure === undefined) p.failure = err;
          // Settled only once every record was sent and every send carrying it answered: none may fail unobserved.
          if (p.unsettled === 0 && p.next === p.records.length) {
            if (p.failure === undefined) p.resolve();
            else p.reject(p.failure.err);
          }
        }
      };
      this.#producer
        .send(this.#topic, records)
        .then(
          () => settle(),
          (err: unknown) => settle({ err }),
        )
        .finally(() => {
          this.#sending--;
          this.#pump();
        });
    }
  }
}
