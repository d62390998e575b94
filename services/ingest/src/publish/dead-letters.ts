import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { DeadLetterReason, DeadLetterWriter } from '@kaudit/kafka';

/**
 * Dead-letters bad input once per distinct (cluster, stage, bytes): the kube-apiserver retries every
 * non-2xx five times with the same body, and those copies must not become five DLQ records. The
 * hash is remembered only after the DLQ write was acknowledged, so a failed write is retried.
 */
export class DeadLetters {
  readonly #writer: DeadLetterWriter;
  readonly #seen: LRUCache<string, true>;

  constructor(deps: { writer: DeadLetterWriter; maxEntries: number }) {
    this.#writer = deps.writer;
    this.#seen = new LRUCache({ max: deps.maxEntries });
  }

  /** Resolves `written` or `duplicate` once the bytes are durable in the DLQ; rejects when Kafka did not take them. */
  async send(
    item: { value: Buffer; cluster: string | undefined; headers?: Record<string, string> },
    reason: DeadLetterReason,
  ): Promise<'written' | 'duplicate'> {
    const key = createHash('sha256')
      .update(`${item.cluster ?? ''}\0${reason.stage}\0`)
      .update(item.value)
      .digest('hex');
    if (this.#seen.has(key)) return 'duplicate';
    await this.#writer.send({ value: item.value, key: item.cluster ?? null, headers: { ...(item.headers ?? {}), 'kaudit-dlq-dedup-key': key } }, reason);
    this.#seen.set(key, true);
    return 'written';
  }
}
