import { randomUUID } from 'node:crypto';
import { KauditError } from '@kaudit/errors';
import type { BatchConsumer, KafkaAdmin, KafkaClient, Producer, TopicSpec } from '@kaudit/kafka';
import type { Logger } from '@kaudit/logging';
import type { Component } from '@kaudit/runtime';
import type { CheckpointKv } from './window-checkpoint.js';

type Entry = { key: string; value: Buffer; tombstone?: boolean };

/** Entries written in one turn of the event loop, sent together (see #write). */
interface Queued {
  entries: Entry[];
  bytes: number;
  sent: Promise<void>;
}

/** At most this many value bytes are coalesced into one send. */
const COALESCED_BYTES = 1024 * 1024;

interface Stored {
  value: Buffer;
  /** Offset of the record this value came from (-1 when unknown): an older record never overwrites it. */
  offset: bigint;
}

/**
 * The alert service's durable state — rule-engine window checkpoints per input partition and
 * recently delivered alert ids per destination — kept in a compacted Kafka topic (latest value per
 * key). Kafka instead of a disk file because the service is stateless on its host and another
 * instance may take over its partitions.
 *
 * One reader follows the topic for the store's whole life, so `reload()` (after a rebalance) only
 * waits until it has caught up with the topic's end: it reads what is new, not the whole topic, and
 * creates no consumer group. kafkajs cannot read without a group (no manual assignment:
 * https://github.com/tulios/kafkajs/issues/373), so the reader's group — one per store, i.e. per
 * process start — is the only one this creates.
 */
export class CheckpointStore implements Component, CheckpointKv {
  readonly name = 'checkpoint-store';
  readonly #kafka: KafkaClient;
  readonly #producer: Producer;
  readonly #topic: string;
  readonly #groupPrefix: string;
  readonly #log: Logger;
  readonly #values = new Map<string, Stored>();
  readonly #readTimeoutMs: number;
  #admin: KafkaAdmin | undefined;
  #reader: BatchConsumer | undefined;
  /** Per partition of the state topic: the next offset the reader will see. */
  readonly #position = new Map<number, bigint>();
  #waiters: (() => void)[] = [];
  #queued: Queued | undefined;
  #records = 0;

  constructor(deps: { kafka: KafkaClient; producer: Producer; topic: string; groupPrefix: string; logger: Logger; readTimeoutMs?: number }) {
    this.#readTimeoutMs = deps.readTimeoutMs ?? 120_000;
    this.#kafka = deps.kafka;
    this.#producer = deps.producer;
    this.#topic = deps.topic;
    this.#groupPrefix = deps.groupPrefix;
    this.#log = deps.logger.child({ component: 'checkpoint-store' });
  }

  /** Compaction keeps one record per key; small segments so it actually runs and start-up reads stay short. */
  static topicSpec(topic: string): TopicSpec {
    return {
      topic,
      partitions: 1,
      configs: { 'cleanup.policy': 'compact', 'segment.ms': String(10 * 60_000), 'min.cleanable.dirty.ratio': '0.1', 'max.message.bytes': String(8 * 1024 * 1024) },
    };
  }

  /** The consumer group of this store's reader (named so operators can tell what it is). */
  static readerGroupPrefix(groupPrefix: string): string {
    return `${groupPrefix}-state-`;
  }

  async start(): Promise<void> {
    const admin = this.#kafka.admin();
    await admin.start();
    this.#admin = admin;
    await admin.ensureTopics([CheckpointStore.topicSpec(this.#topic)]);
    // This reader must not share offsets with anyone: its own group, kept for the store's life.
    const reader = this.#kafka.consumer({ groupId: `${CheckpointStore.readerGroupPrefix(this.#groupPrefix)}${randomUUID()}`, topics: [this.#topic], fromBeginning: true });
    this.#reader = reader;
    await reader.start(async (batch) => {
      for (const r of batch.records) {
        this.#records++;
        if (r.key === null) continue;
        const key = r.key.toString('utf8');
        const at = BigInt(r.offset);
        const held = this.#values.get(key);
        if (held && held.offset > at) continue;
        // A tombstone (see remove()) forgets the key, so keys that come and go do not pile up.
        if (r.value === null) this.#values.delete(key);
        else this.#values.set(key, { value: r.value, offset: at });
      }
      this.#position.set(batch.partition, BigInt(batch.lastOffset) + 1n);
      for (const wake of this.#waiters.splice(0)) wake();
    });
    const began = Date.now();
    await this.reload();
    this.#log.info({ event: 'checkpoints_loaded', keys: this.#values.size, records: this.#records, ms: Date.now() - began }, 'checkpoints_loaded');
  }

  async stop(): Promise<void> {
    await this.#reader?.stop();
    this.#reader = undefined;
    await this.#admin?.stop().catch(() => undefined);
    this.#admin = undefined;
  }

  /** Resolves once the reader has seen everything written to the topic before this call. */
  async reload(): Promise<void> {
    const admin = this.#admin;
    if (!admin) throw new KauditError('INTERNAL', 'checkpoint store not started');
    const deadline = Date.now() + this.#readTimeoutMs;
    let offsets: Awaited<ReturnType<KafkaAdmin['fetchTopicOffsets']>> | undefined;
    // Right after ensureTopics created it, the topic's leader may not know it yet
    // (UNKNOWN_TOPIC_OR_PARTITION, which kafkajs' admin does not retry here): ask again shortly.
    for (let attempt = 1; offsets === undefined; attempt++) {
      try {
        offsets = await admin.fetchTopicOffsets(this.#topic);
      } catch (err) {
        if (Date.now() + 500 * attempt > deadline) throw err;
        this.#log.warn({ event: 'state_offsets_retry', attempt, err }, 'state_offsets_retry');
        await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
      }
    }
    const ends = offsets.filter((p) => BigInt(p.high) > BigInt(p.low));
    const behind = () => ends.some((p) => (this.#position.get(p.partition) ?? 0n) < BigInt(p.high));
    while (behind()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new KauditError('KAFKA_UNAVAILABLE', `checkpoints in ${this.#topic} not read within ${this.#readTimeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1000));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  get(key: string): Buffer | undefined {
    const held = this.#values.get(key);
    return held && held.value.length > 0 ? held.value : undefined;
  }

  keys(prefix: string): string[] {
    const out: string[] = [];
    for (const [key, held] of this.#values) if (held.value.length > 0 && key.startsWith(prefix)) out.push(key);
    return out;
  }

  /** Resolves once the write is acknowledged; only then may the caller commit what it covers. */
  async put(key: string, value: Buffer): Promise<void> {
    await this.putMany([{ key, value }]);
  }

  /**
   * Removes keys for good: tombstones, which compaction deletes from the topic (short-lived keys
   * such as held bindings would otherwise be kept forever and read at every start).
   */
  async remove(keys: readonly string[]): Promise<void> {
    // Held as empty until the reader meets the tombstone itself (get and keys skip empty values).
    await this.#write(keys.map((key) => ({ key, value: Buffer.alloc(0), tombstone: true })));
  }

  async putMany(entries: readonly { key: string; value: Buffer }[]): Promise<void> {
    await this.#write(entries);
  }

  /**
   * Writes made in the same turn of the event loop (the evaluator checkpoints every partition of a round at
   * once) go out as one produce request: one acks=all round trip instead of one per partition. Each caller's
   * entries stay contiguous and in order; a failed send fails every caller in it.
   */
  #write(entries: readonly Entry[]): Promise<void> {
    if (entries.length === 0) return Promise.resolve();
    const bytes = entries.reduce((sum, e) => sum + e.value.length, 0);
    let queued = this.#queued;
    // Bounded like a base's own sends (WindowCheckpoint): well under the topic's max.message.bytes.
    if (queued === undefined || (queued.entries.length > 0 && queued.bytes + bytes > COALESCED_BYTES)) {
      const next: Queued = { entries: [], bytes: 0, sent: Promise.resolve() };
      next.sent = new Promise<void>((resolve) => queueMicrotask(resolve)).then(() => {
        if (this.#queued === next) this.#queued = undefined;
        return this.#send(next.entries);
      });
      this.#queued = next;
      queued = next;
    }
    queued.entries.push(...entries);
    queued.bytes += bytes;
    return queued.sent;
  }

  async #send(entries: readonly Entry[]): Promise<void> {
    const acks = await this.#producer.send(this.#topic, entries);
    // One partition (topicSpec): the records got consecutive offsets from the batch's base offset.
    const ack = acks.length === 1 ? acks[0] : undefined;
    const base = ack && /^\d+$/.test(ack.baseOffset) ? BigInt(ack.baseOffset) : undefined;
    entries.forEach((e, i) => {
      const at = base === undefined ? -1n : base + BigInt(i);
      const held = this.#values.get(e.key);
      if (!held || held.offset < at || at === -1n) this.#values.set(e.key, { value: e.value, offset: at });
    });
  }
}
