import type { ErrorCode } from '@kaudit/errors';
import type { OutgoingRecord, Producer } from './types.js';
import { TOPICS } from './topics.js';

/** Headers every DLQ record carries, next to the original record's own headers. */
export const DLQ_HEADERS = {
  code: 'kaudit-dlq-code',
  reason: 'kaudit-dlq-reason',
  service: 'kaudit-dlq-service',
  stage: 'kaudit-dlq-stage',
  at: 'kaudit-dlq-at',
  topic: 'kaudit-dlq-original-topic',
  partition: 'kaudit-dlq-original-partition',
  offset: 'kaudit-dlq-original-offset',
} as const;

export interface DeadLetterOriginal {
  /** The exact bytes that could not be processed; never re-serialised. */
  value: Buffer | null;
  key?: Buffer | string | null;
  headers?: Record<string, Buffer | string>;
  topic?: string;
  partition?: number;
  offset?: string;
}

export interface DeadLetterReason {
  code: ErrorCode;
  message: string;
  /** Where in the service it failed, e.g. `parse-body`, `decode-avro`. */
  stage: string;
}

/**
 * Writes records that cannot be processed to `kaudit.dlq.v1` with their original bytes and why,
 * so nothing is dropped silently and an operator can replay them after a fix.
 */
export class DeadLetterWriter {
  readonly #producer: Producer;
  readonly #service: string;
  readonly #topic: string;
  readonly #now: () => Date;

  constructor(deps: { producer: Producer; service: string; topic?: string; now?: () => Date }) {
    this.#producer = deps.producer;
    this.#service = deps.service;
    this.#topic = deps.topic ?? TOPICS.dlq;
    this.#now = deps.now ?? (() => new Date());
  }

  toRecord(original: DeadLetterOriginal, reason: DeadLetterReason): OutgoingRecord {
    const headers: Record<string, string | Buffer> = { ...(original.headers ?? {}) };
    headers[DLQ_HEADERS.code] = reason.code;
    // Header values are bounded: a reason quoting a huge payload must not make the DLQ write fail.
    headers[DLQ_HEADERS.reason] = reason.message.slice(0, 4096);
    headers[DLQ_HEADERS.service] = this.#service;
    headers[DLQ_HEADERS.stage] = reason.stage;
    headers[DLQ_HEADERS.at] = this.#now().toISOString();
    if (original.topic !== undefined) headers[DLQ_HEADERS.topic] = original.topic;
    if (original.partition !== undefined) headers[DLQ_HEADERS.partition] = String(original.partition);
    if (original.offset !== undefined) headers[DLQ_HEADERS.offset] = original.offset;
    return { key: original.key ?? null, value: original.value ?? Buffer.alloc(0), headers };
  }

  /** Resolves when the DLQ write is acknowledged; only then may the caller commit past the original. */
  async send(original: DeadLetterOriginal, reason: DeadLetterReason): Promise<void> {
    await this.#producer.send(this.#topic, [this.toRecord(original, reason)]);
  }

  async sendMany(items: readonly { original: DeadLetterOriginal; reason: DeadLetterReason }[]): Promise<void> {
    if (items.length === 0) return;
    await this.#producer.send(
      this.#topic,
      items.map((i) => this.toRecord(i.original, i.reason)),
    );
  }
}
