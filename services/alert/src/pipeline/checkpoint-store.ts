import { randomUUID } from 'node:crypto';
import { KauditError } from '@kaudit/errors';
import type { KafkaClient, Producer, TopicSpec } from '@kaudit/kafka';
import type { Logger } from '@kaudit/logging';
import type { Component } from '@kaudit/runtime';

/**
 * The alert service's durable state — rule-engine snapshots per input partition and recently
 * delivered alert ids per destination — kept in a compacted Kafka topic (latest value per key).
 * Kafka instead of a disk file because the service is stateless on its host and another instance
 * may take over its partitions; the topic is read once at start (and again after a rebalance).
 */
export class CheckpointStore implements Component {
  readonly name = 'checkpoint-store';
  readonly #kafka: KafkaClient;
  readonly #producer: Producer;
  readonly #topic: string;
  readonly #groupPrefix: string;
  readonly #log: Logger;
  readonly #values = new Map<string, Buffer>();
  readonly #readTimeoutMs: number;

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

  async start(): Promise<void> {
    const admin = this.#kafka.admin();
    await admin.start();
    try {
      await admin.ensureTopics([CheckpointStore.topicSpec(this.#topic)]);
    } finally {
      await admin.stop();
    }
    await this.reload();
  }

  async stop(): Promise<void> {
    /* nothing held open: reads use a short-lived consumer, writes the shared producer */
  }

  /** Re-reads the whole topic (latest value per key wins). */
  async reload(): Promise<void> {
    const admin = this.#kafka.admin();
    await admin.start();
    let ends: Map<number, bigint>;
    try {
      ends = new Map((await admin.fetchTopicOffsets(this.#topic)).filter((p) => BigInt(p.high) > BigInt(p.low)).map((p) => [p.partition, BigInt(p.high)]));
    } finally {
      await admin.stop();
    }
    if (ends.size === 0) return;
    const began = Date.now();
    // A throw-away group: this read must not share offsets with anyone, and never commits anything useful.
    const consumer = this.#kafka.consumer({ groupId: `${this.#groupPrefix}-state-${randomUUID()}`, topics: [this.#topic], fromBeginning: true });
    let records = 0;
    let timer: NodeJS.Timeout | undefined;
    const reading = new Promise<void>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new KauditError('KAFKA_UNAVAILABLE', `checkpoints in ${this.#topic} not read within ${this.#readTimeoutMs} ms`)),
        this.#readTimeoutMs,
      );
      consumer
        .start(async (batch) => {
          for (const r of batch.records) {
            records++;
            if (r.key !== null && r.value !== null) this.#values.set(r.key.toString('utf8'), r.value);
          }
          const end = ends.get(batch.partition);
          if (end !== undefined && BigInt(batch.lastOffset) + 1n >= end) ends.delete(batch.partition);
          if (ends.size === 0) resolve();
        })
        .catch(reject);
    });
    try {
      await reading;
    } finally {
      clearTimeout(timer);
      await consumer.stop();
    }
    this.#log.info({ event: 'checkpoints_loaded', keys: this.#values.size, records, ms: Date.now() - began }, 'checkpoints_loaded');
  }

  get(key: string): Buffer | undefined {
    return this.#values.get(key);
  }

  /** Resolves once the write is acknowledged; only then may the caller commit what it covers. */
  async put(key: string, value: Buffer): Promise<void> {
    await this.#producer.send(this.#topic, [{ key, value }]);
    this.#values.set(key, value);
  }
}
