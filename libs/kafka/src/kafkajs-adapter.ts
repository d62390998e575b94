/**
 * The only module that imports kafkajs (CONVENTIONS §13). kafkajs is in maintenance mode; everything
 * else in kaudit talks to the interfaces in types.ts, so a client swap is contained here.
 */
import kafkajs, {
  Kafka,
  Partitioners,
  logLevel,
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type IHeaders,
  type LogEntry,
  type Producer as KjsProducer,
  type SASLOptions,
} from 'kafkajs';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { KauditError } from '@kaudit/errors';
import type { Logger } from '@kaudit/logging';
import { lz4Codec, zstdCodec } from './compression-codecs.js';
import { memoisedPartitioner } from './memoised-partitioner.js';
import type {
  BatchConsumer,
  BatchHandler,
  ClusterInfo,
  CodecWarmUpResult,
  ConsumerOptions,
  GroupDescription,
  IncomingRecord,
  KafkaAdmin,
  KafkaClient,
  KafkaCompression,
  KafkaSaslOptions,
  KafkaSecurityOptions,
  KafkaTlsOptions,
  OutgoingRecord,
  ProduceAck,
  Producer,
  ProducerOptions,
  RecordBatch,
  TopicDescription,
  TopicSpec,
} from './types.js';

export interface KafkaClientOptions extends KafkaSecurityOptions {
  brokers: readonly string[];
  clientId: string;
  logger: Logger;
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
}

function toKafkajsLogger(logger: Logger) {
  const log = logger.child({ component: 'kafkajs' });
  return () =>
    ({ level, log: entry }: LogEntry) => {
      const { message, ...fields } = entry;
      // Deliberate, see the producer's retry setting: unlimited retries would keep timed-out sends
      // alive (and their memory held) for the whole of a broker outage.
      if (message.startsWith('Limiting retries for the idempotent producer')) return;
      // kafkajs reports every reconnect attempt as ERROR; our own code decides what is an error.
      if (level === logLevel.ERROR || level === logLevel.WARN) log.warn(fields, message);
      else if (level === logLevel.INFO) log.debug(fields, message);
    };
}

/** The kafkajs error and its causes, outermost first (bounded: causes can be cyclic). */
function causeChain(err: unknown): Record<string, unknown>[] {
  const chain: Record<string, unknown>[] = [];
  for (let e = err; typeof e === 'object' && e !== null && chain.length < 8 && !chain.includes(e as Record<string, unknown>); e = (e as { cause?: unknown }).cause) {
    chain.push(e as Record<string, unknown>);
  }
  return chain;
}

/**
 * Whether a kafkajs failure may succeed if repeated. kafkajs wraps a permanent refusal (authorization,
 * invalid topic…) in KafkaJSNonRetriableError, and a transient error whose retries ran out in
 * KafkaJSNumberOfRetriesExceeded — a subclass of it, also `retriable: false`. So no wrapper's flag
 * decides: retries that ran out are transient, otherwise the innermost error that has a `retriable`
 * flag does (issue 11). An error with no flag anywhere (a socket error) is transient.
 */
function isRetriableKafkaError(err: unknown): boolean {
  const chain = causeChain(err);
  if (chain.some((e) => e.name === 'KafkaJSNumberOfRetriesExceeded')) return true;
  const flagged = chain.filter((e) => typeof e.retriable === 'boolean');
  return flagged.length === 0 || flagged[flagged.length - 1]?.retriable === true;
}

/**
 * Errors that mean this member no longer owns what it was assigned: the group is rebalancing, or moved on to a
 * generation this member is not part of. A batch in hand must be dropped (not committed), never finished.
 */
const FENCING_ERROR_TYPES = new Set(['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'NOT_COORDINATOR_FOR_GROUP', 'FENCED_INSTANCE_ID']);

function isFencingError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && FENCING_ERROR_TYPES.has(String((err as { type?: unknown }).type));
}

/**
 * The broker refused who we are: our SASL credentials, or (a TLS alert it sent, e.g. certificate
 * required or unknown CA) our client certificate. kafkajs wraps the error in its retrier's.
 */
function isAuthRefusal(err: unknown): boolean {
  for (let e = err, depth = 0; typeof e === 'object' && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { name, code } = e as { name?: unknown; code?: unknown };
    if (name === 'KafkaJSSASLAuthenticationError') return true;
    // Node 20's OpenSSL names the alert ERR_SSL_SSLV3_ALERT_…/TLSV13_…, Node 22's (OpenSSL 3.x) ERR_SSL_SSL/TLS_ALERT_….
    if (typeof code === 'string' && /^ERR_SSL_(SSLV3|TLSV1|TLSV13|SSL\/TLS)_ALERT_(\w*CERTIFICATE\w*|UNKNOWN_CA|ACCESS_DENIED)$/.test(code)) return true;
  }
  return false;
}

function wrapKafkaError(err: unknown, what: string): KauditError {
  if (err instanceof KauditError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (isAuthRefusal(err)) return new KauditError('KAFKA_AUTH_FAILED', `${what}: Kafka refused our credentials or client certificate (${message})`, { cause: err, retryable: false });
  if (isRetriableKafkaError(err)) return new KauditError('KAFKA_UNAVAILABLE', `${what}: ${message}`, { cause: err });
  const type = causeChain(err).map((e) => e.type).filter((t): t is string => typeof t === 'string').pop();
  return new KauditError('KAFKA_REJECTED', `${what}: Kafka refused it (${message}${type ? `, ${type}` : ''}); retrying will not help: check the topic's configuration and the client's ACLs`, {
    cause: err,
    ...(type ? { details: { kafkaError: type } } : {}),
  });
}

/**
 * A kafkajs consumer crash as ours. kafkajs restarts the consumer only when the cause may pass (`restart`); otherwise
 * it stays stopped, so the error says why for good: the broker's refusal (KAFKA_REJECTED, KAFKA_AUTH_FAILED), or
 * KAFKA_ERROR for a failure with no retriable flag (kafkajs treats e.g. a TypeError as unrecoverable).
 */
function crashError(err: unknown, restarting: boolean, groupId: string): KauditError {
  const message = err instanceof Error ? err.message : String(err);
  if (restarting) return new KauditError('KAFKA_UNAVAILABLE', `consumer ${groupId} crashed and kafkajs restarts it: ${message}`, { cause: err });
  const what = `consumer ${groupId} crashed and stopped for good`;
  const wrapped = wrapKafkaError(err, what);
  return wrapped.code === 'KAFKA_UNAVAILABLE' ? new KauditError('KAFKA_ERROR', `${what}: ${message}`, { cause: err, retryable: false }) : wrapped;
}

function toHeaders(headers: IHeaders | undefined): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  if (!headers) return out;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const first = Array.isArray(value) ? value[0] : value;
    if (first === undefined) continue;
    out[name] = typeof first === 'string' ? Buffer.from(first) : first;
  }
  return out;
}

/** A fetched batch's messages as ours (what a handler gets, and what warmUpCodecs runs through). */
function toIncomingRecords(topic: string, partition: number, messages: readonly kafkajs.KafkaMessage[]): IncomingRecord[] {
  return messages.map((m) => ({ topic, partition, offset: m.offset, key: m.key, value: m.value, headers: toHeaders(m.headers), timestamp: m.timestamp }));
}

// kafkajs is CommonJS and these two are not visible as named ESM exports.
const { CompressionCodecs, CompressionTypes } = kafkajs;

const COMPRESSION_TYPES: Record<KafkaCompression, kafkajs.CompressionTypes> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
};

/**
 * kafkajs looks codecs up in one process-wide map (CompressionCodecs) and has no per-client hook, so
 * this cannot be per client: every client sets the same codec objects, which makes repeating it harmless.
 * All of them, whatever this client's producers use: a consumer must decode what any producer wrote.
 */
function registerCodecs(): void {
  CompressionCodecs[CompressionTypes.LZ4] = () => lz4Codec;
  CompressionCodecs[CompressionTypes.ZSTD] = () => zstdCodec;
}

/**
 * kafkajs' idempotent producer is only safe one send at a time, with a fresh session after a failed send
 * (found by test/e2e/no-acknowledged-event-lost-when-a-broker-is-killed.test.ts, which lost an acknowledged
 * batch). kafkajs numbers a batch with its partition's sequence when the request is built and advances it only
 * on success, so:
 * - two send() calls in flight for one partition (ingest keeps two outstanding; enrich's lanes share a
 *   producer) can carry the same sequence: when the first is retried after a leader change, the broker takes
 *   it for a duplicate of the second and answers success with the second's offset — an acknowledged batch
 *   that is not on the topic;
 * - after a send that failed with its outcome unknown (it may have landed), the next batch reuses its sequence
 *   and, if the first did land, is "deduplicated" away the same way.
 * Hence: sends are queued (one kafkajs send in flight per producer), and a failed send retires the kafkajs
 * producer; the next send first connects a new one (a new producer id, sequences from zero), which is what the
 * Java client does by bumping the epoch.
 */
class KjsProducerAdapter implements Producer {
  readonly #createProducer: () => KjsProducer;
  #producer: KjsProducer;
  readonly #sendTimeoutMs: number;
  readonly #compression: kafkajs.CompressionTypes;
  readonly #verifyTls: () => Promise<void>;
  #connected = false;
  /** The previous kafkajs send, settled or not: the next one starts after it. */
  #queue: Promise<unknown> = Promise.resolve();
  /** A send failed: its idempotent session must not number another batch. */
  #sessionSpoiled = false;
  /**
   * Sends past their deadline whose kafkajs send has not settled (still retrying, or queued behind one that
   * is). While there is one, new sends are refused at once: queued behind it they would each wait their
   * turn and retry in turn, holding their records, so a Kafka outage or stall made memory grow with every
   * batch the callers kept offering (ingest answered 503 and took the apiserver's retry, again and again).
   */
  #overdue = 0;

  constructor(kafka: Kafka, options: ProducerOptions, verifyTls: () => Promise<void>) {
    this.#verifyTls = verifyTls;
    this.#createProducer = () =>
      kafka.producer({
        // Idempotence needs acks=-1 and makes broker-side retries safe (no duplicates from retried requests).
        idempotent: true,
        // kafkajs can reorder or fail sequence checks with >1 in-flight request per broker when idempotent.
        maxInFlightRequests: 1,
        // kafkajs' default partitioner (murmur2), memoised per key: the same partitions, without hashing every record.
        createPartitioner: () => memoisedPartitioner(Partitioners.DefaultPartitioner()),
        // Bounded on purpose: a send the caller already gave up on (sendTimeoutMs) must not keep
        // retrying — and holding its records — for the whole of a broker outage.
        retry: { initialRetryTime: 100, maxRetryTime: 2000, retries: 10 },
        allowAutoTopicCreation: false,
      });
    this.#producer = this.#createProducer();
    this.#sendTimeoutMs = options.sendTimeoutMs ?? 10_000;
    this.#compression = COMPRESSION_TYPES[options.compression ?? 'none'];
  }

  async start(): Promise<void> {
    try {
      await this.#verifyTls();
      await this.#producer.connect();
      this.#connected = true;
    } catch (err) {
      throw wrapKafkaError(err, 'producer connect failed');
    }
  }

  async stop(): Promise<void> {
    if (!this.#connected) return;
    this.#connected = false;
    // Sends already queued finish (or fail) first: stop() flushes what the callers are waiting for.
    await this.#queue.catch(() => undefined);
    await this.#producer.disconnect();
  }

  /** One kafkajs send, after the previous one settled, on a session no failed send has spoiled. */
  async #sendAlone(request: kafkajs.ProducerRecord): Promise<kafkajs.RecordMetadata[]> {
    if (this.#sessionSpoiled) {
      const spoiled = this.#producer;
      this.#producer = this.#createProducer();
      await spoiled.disconnect().catch(() => undefined);
      await this.#producer.connect();
      this.#sessionSpoiled = false;
    }
    try {
      return await this.#producer.send(request);
    } catch (err) {
      this.#sessionSpoiled = true;
      throw err;
    }
  }

  async send(topic: string, records: readonly OutgoingRecord[]): Promise<ProduceAck[]> {
    if (records.length === 0) return [];
    if (!this.#connected) throw new KauditError('KAFKA_UNAVAILABLE', 'producer is not started');
    if (this.#overdue > 0) {
      throw new KauditError('KAFKA_UNAVAILABLE', `an earlier send to Kafka is still unacknowledged past its ${this.#sendTimeoutMs} ms deadline (broker unreachable or stalled); not queuing more records behind it`);
    }
    const request: kafkajs.ProducerRecord = {
      topic,
      acks: -1,
      compression: this.#compression,
      messages: records.map((r) => ({
        key: r.key,
        value: r.tombstone === true ? null : r.value,
        ...(r.headers ? { headers: r.headers } : {}),
        ...(r.partition !== undefined ? { partition: r.partition } : {}),
      })),
    };
    const sending = this.#queue.catch(() => undefined).then(() => this.#sendAlone(request));
    this.#queue = sending;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.#overdue++;
        const settled = () => {
          this.#overdue--;
        };
        sending.then(settled, settled);
        reject(new KauditError('KAFKA_UNAVAILABLE', `Kafka did not acknowledge ${records.length} record(s) to ${topic} within ${this.#sendTimeoutMs} ms`));
      }, this.#sendTimeoutMs);
    });
    // The losing send keeps running inside kafkajs; swallow its late rejection so it is not unhandled.
    sending.catch(() => undefined);
    try {
      const meta = await Promise.race([sending, deadline]);
      return meta.map((m) => ({ topic: m.topicName, partition: m.partition, baseOffset: m.baseOffset ?? '-1' }));
    } catch (err) {
      throw wrapKafkaError(err, `produce to ${topic} failed`);
    } finally {
      clearTimeout(timer);
    }
  }
}

class KjsBatchConsumer implements BatchConsumer {
  readonly #consumer: Consumer;
  readonly #options: ConsumerOptions;
  readonly #logger: Logger;
  #stopping = false;
  /** Batches in their retry loop after a failure that pauses fetching (pauseWhileRetrying); paused while > 0. */
  #retrying = 0;
  #assigned = false;
  #assignmentWaiters: (() => void)[] = [];
  /**
   * Ownership, for fencing (issue 12 §2): kafkajs' isStale() only reflects seeks, so a batch cannot tell from
   * kafkajs that its partition moved. Each group join is a new generation with its own assignment; a batch may
   * act only while the generation it started in is current, its partition is in that assignment, and no
   * rebalance was reported since (by kafkajs, or by a heartbeat of ours — BatchContext.heartbeat() just before
   * an effect is how a handler learns that its silent spell outlived its session).
   */
  #generation = 0;
  #owned = new Set<string>();
  #rebalancing = false;
  /**
   * Who this member is in the group since its last join, and the broker's generation of that join (learnt from the
   * first heartbeat the broker accepted after it, while not fenced). A heartbeat the broker accepts for this member
   * in that same generation proves the member still holds that generation's assignment — the broker answers
   * REBALANCE_IN_PROGRESS or ILLEGAL_GENERATION otherwise — so it lifts a fence that no join will: kafkajs, when a
   * re-join fails (the coordinator is still loading after a broker restart), goes on fetching in the old generation
   * without a GROUP_JOIN, and every batch would be skipped as fenced, for good (found by the whole-pipeline e2e test:
   * enrich spinning at 77% CPU, 26,000 records behind, nothing logged).
   */
  #memberId: string | undefined;
  #brokerGeneration: number | undefined;
  #started = false;
  /** Batches being handled now; stop() waits for them so their commits are not lost. */
  readonly #inflight = new Set<Promise<void>>();
  readonly #verifyTls: () => Promise<void>;

  constructor(kafka: Kafka, options: ConsumerOptions, logger: Logger, verifyTls: () => Promise<void>) {
    this.#options = options;
    this.#verifyTls = verifyTls;
    this.#logger = logger.child({ component: 'consumer', groupId: options.groupId });
    this.#consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs ?? 30_000,
      maxBytesPerPartition: options.maxBytesPerPartition ?? 1_048_576,
      ...(options.fetchMinBytes !== undefined ? { minBytes: options.fetchMinBytes } : {}),
      ...(options.fetchMaxWaitMs !== undefined ? { maxWaitTimeInMs: options.fetchMaxWaitMs } : {}),
      ...(options.fetchMaxBytes !== undefined ? { maxBytes: options.fetchMaxBytes } : {}),
      allowAutoTopicCreation: false,
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 5000 },
    });
    this.#consumer.on(this.#consumer.events.GROUP_JOIN, ({ payload }) => {
      this.#generation++;
      this.#owned = new Set(Object.entries(payload.memberAssignment).flatMap(([topic, partitions]) => partitions.map((p) => `${topic}:${p}`)));
      this.#rebalancing = false;
      this.#memberId = payload.memberId;
      this.#brokerGeneration = undefined;
      this.#logger.info({ event: 'consumer_assigned', generation: this.#generation, partitions: [...this.#owned] }, 'consumer_assigned');
      this.#assigned = true;
      for (const resolve of this.#assignmentWaiters.splice(0)) resolve();
    });
    this.#consumer.on(this.#consumer.events.REBALANCING, () => this.#fence('rebalancing'));
    this.#consumer.on(this.#consumer.events.HEARTBEAT, ({ payload }) => {
      if (payload.memberId !== this.#memberId) return;
      if (!this.#rebalancing) {
        this.#brokerGeneration ??= payload.groupGenerationId;
      } else if (payload.groupGenerationId === this.#brokerGeneration) {
        this.#rebalancing = false;
        this.#logger.info({ event: 'consumer_unfenced', generation: this.#generation, brokerGeneration: payload.groupGenerationId }, 'consumer_unfenced');
      }
    });
    // Without restart, kafkajs' consumer is stopped for good while the process around it looks alive: say so.
    this.#consumer.on(this.#consumer.events.CRASH, ({ payload }) => {
      if (this.#stopping) return;
      this.#options.onCrash?.({ groupId: options.groupId, restarting: payload.restart, error: crashError(payload.error, payload.restart, options.groupId) });
    });
  }

  async start(handler: BatchHandler): Promise<void> {
    try {
      await this.#verifyTls();
      await this.#consumer.connect();
      await this.#consumer.subscribe({ topics: [...this.#options.topics], fromBeginning: this.#options.fromBeginning ?? true });
    } catch (err) {
      throw wrapKafkaError(err, `consumer ${this.#options.groupId} failed to start`);
    }
    this.#started = true;
    await this.#consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.#options.partitionsConsumedConcurrently ?? 1,
      eachBatch: async (payload) => {
        if (this.#stopping) return; // not handled, not committed: redelivered after restart
        const running = this.#runBatch(payload, handler);
        const tracked = running.catch(() => undefined);
        this.#inflight.add(tracked);
        try {
          await running;
        } finally {
          this.#inflight.delete(tracked);
        }
      },
    });
  }

  async #runBatch(payload: EachBatchPayload, handler: BatchHandler): Promise<void> {
    const { batch } = payload;
    if (batch.messages.length === 0) return;
    const records = toIncomingRecords(batch.topic, batch.partition, batch.messages);
    const first = records[0] as IncomingRecord;
    const last = records[records.length - 1] as IncomingRecord;
    const recordBatch: RecordBatch = {
      topic: batch.topic,
      partition: batch.partition,
      records,
      firstOffset: first.offset,
      lastOffset: last.offset,
      highWatermark: batch.highWatermark,
    };
    const generation = this.#generation;
    const owned = `${batch.topic}:${batch.partition}`;
    const isRunning = () =>
      !this.#stopping &&
      payload.isRunning() &&
      !payload.isStale() &&
      !this.#rebalancing &&
      this.#generation === generation &&
      this.#owned.has(owned);
    // Heartbeat errors are not swallowed: one that says the group moved on fences this member at once.
    const heartbeat = async () => {
      try {
        await payload.heartbeat();
      } catch (err) {
        if (isFencingError(err)) this.#fence((err as Error).message);
        else this.#logger.warn({ event: 'consumer_heartbeat_failed', topic: batch.topic, partition: batch.partition, error: (err as Error).message }, 'consumer_heartbeat_failed');
        throw wrapKafkaError(err, `heartbeat of consumer ${this.#options.groupId}`);
      }
    };
    const ctx = { heartbeat, isRunning, generation };
    if (!isRunning()) return; // fetched before this member was fenced: not handled, not committed
    const initial = this.#options.retryInitialMs ?? 200;
    const max = this.#options.retryMaxMs ?? 10_000;
    let pausing = false;
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          await handler(recordBatch, ctx);
          break;
        } catch (err) {
          this.#options.onHandlerError?.(err, recordBatch, attempt);
          if (!isRunning()) return; // not committed: the batch is redelivered to whoever owns it next
          if (!pausing && this.#options.pauseWhileRetrying?.(err) === true) {
            pausing = true;
            if (this.#retrying++ === 0) this.#pauseFetching(err);
          }
          const delay = Math.min(max, initial * 2 ** Math.min(attempt - 1, 16));
          // Sleep in slices so group heartbeats continue and stop() is honoured promptly.
          for (let waited = 0; waited < delay && isRunning(); waited += 500) {
            await sleep(Math.min(500, delay - waited));
            await heartbeat().catch(() => undefined); // logged, and a rebalance fenced us, in heartbeat()
          }
          if (!isRunning()) return;
        }
      }
      payload.resolveOffset(last.offset);
      const next = (BigInt(last.offset) + 1n).toString();
      // Commit only after the handler made the work durable (CONVENTIONS §7).
      await this.#consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
      await payload.heartbeat();
    } finally {
      // However the retry ended — success, fenced, stopping, a failed commit — its pause ends with it.
      if (pausing && --this.#retrying === 0) this.#resumeFetching();
    }
  }

  #pauseFetching(err: unknown): void {
    try {
      this.#consumer.pause(this.#options.topics.map((topic) => ({ topic })));
    } catch {
      return; // not joined (any more): nothing is being fetched to pause
    }
    this.#logger.debug({ event: 'consumer_paused' }, 'consumer_paused');
    this.#options.onFetchPaused?.(err);
  }

  #resumeFetching(): void {
    // stop() paused fetching for good; a retry ending during it must not undo that.
    if (this.#stopping) return;
    this.#consumer.resume(this.#options.topics.map((topic) => ({ topic })));
    this.#logger.debug({ event: 'consumer_resumed' }, 'consumer_resumed');
    this.#options.onFetchResumed?.();
  }

  /** This member's current generation may no longer own its partitions: no batch of it acts any more. */
  #fence(reason: string): void {
    if (this.#rebalancing) return;
    this.#rebalancing = true;
    this.#logger.warn({ event: 'consumer_fenced', generation: this.#generation, reason }, 'consumer_fenced');
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    if (!this.#started) {
      await this.#consumer.disconnect().catch(() => undefined);
      return;
    }
    // Finish (and commit) the batch in hand while still a group member; start no new one. (pause throws before
    // the first group join; there is nothing to pause then.)
    try {
      this.#consumer.pause(this.#options.topics.map((topic) => ({ topic })));
    } catch {
      // not joined yet
    }
    await Promise.all(this.#inflight);
    await this.#consumer.disconnect();
  }

  waitForAssignment(timeoutMs = 30_000): Promise<void> {
    if (this.#assigned) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new KauditError('KAFKA_UNAVAILABLE', `consumer ${this.#options.groupId} not assigned within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.#assignmentWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

class KjsAdminAdapter implements KafkaAdmin {
  readonly #admin: Admin;
  readonly #verifyTls: () => Promise<void>;
  constructor(kafka: Kafka, verifyTls: () => Promise<void>) {
    this.#admin = kafka.admin();
    this.#verifyTls = verifyTls;
  }

  async start(): Promise<void> {
    try {
      await this.#verifyTls();
      await this.#admin.connect();
    } catch (err) {
      throw wrapKafkaError(err, 'admin connect failed');
    }
  }

  async stop(): Promise<void> {
    await this.#admin.disconnect();
  }

  async describeCluster(): Promise<ClusterInfo> {
    const c = await this.#admin.describeCluster();
    return { clusterId: c.clusterId, controller: c.controller, brokers: c.brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port })) };
  }

  async ensureTopics(specs: readonly TopicSpec[]): Promise<void> {
    const existing = new Set(await this.#admin.listTopics());
    const missing = specs.filter((s) => !existing.has(s.topic));
    if (missing.length > 0) {
      await this.#admin.createTopics({
        // Our own wait below: kafkajs' gives up on UNKNOWN_TOPIC_OR_PARTITION, which a broker of a
        // multi-broker cluster answers until the new topic's metadata has reached it.
        waitForLeaders: false,
        topics: missing.map((s) => ({
          topic: s.topic,
          numPartitions: s.partitions,
          replicationFactor: s.replicationFactor ?? -1, // -1: the broker's default.replication.factor
          configEntries: Object.entries(s.configs ?? {}).map(([name, value]) => ({ name, value })),
        })),
      });
      await this.#waitForLeaders(missing);
    }
    const present = specs.filter((s) => existing.has(s.topic));
    if (present.length === 0) return;
    const meta = await this.#admin.fetchTopicMetadata({ topics: present.map((s) => s.topic) });
    const grow = present.filter((s) => {
      const m = meta.topics.find((t) => t.name === s.topic);
      return m !== undefined && m.partitions.length < s.partitions;
    });
    if (grow.length > 0) {
      await this.#admin.createPartitions({ topicPartitions: grow.map((s) => ({ topic: s.topic, count: s.partitions })) });
      await this.#waitForLeaders(grow);
    }
    const withConfigs = present.filter((s) => Object.keys(s.configs ?? {}).length > 0);
    if (withConfigs.length === 0) return;
    // AlterConfigs (kafkajs has no incremental variant) replaces a topic's whole set of own settings:
    // merge with what is set, or a service's start would undo e.g. setup's min.insync.replicas.
    const current = await this.#topicConfigs(withConfigs.map((s) => s.topic));
    const changed = withConfigs
      .map((s) => ({ topic: s.topic, has: current.get(s.topic) ?? {}, wanted: s.configs ?? {} }))
      .filter(({ has, wanted }) => Object.entries(wanted).some(([name, value]) => has[name] !== value));
    if (changed.length > 0) {
      await this.#admin.alterConfigs({
        validateOnly: false,
        resources: changed.map(({ topic, has, wanted }) => ({
          type: 2, // ConfigResourceTypes.TOPIC
          name: topic,
          configEntries: Object.entries({ ...has, ...wanted }).map(([name, value]) => ({ name, value })),
        })),
      });
    }
  }

  /**
   * New topics and partitions reach the metadata a moment later, and get a leader a moment after that;
   * return only once clients can use them (listOffsets on a leaderless partition fails).
   */
  async #waitForLeaders(specs: readonly TopicSpec[]): Promise<void> {
    for (let attempt = 0; attempt < 100; attempt++) {
      try {
        const now = await this.#admin.fetchTopicMetadata({ topics: specs.map((s) => s.topic) });
        const ready = specs.every((s) => {
          const partitions = now.topics.find((t) => t.name === s.topic)?.partitions ?? [];
          return partitions.length >= s.partitions && partitions.every((p) => p.leader >= 0);
        });
        if (ready) return;
      } catch (err) {
        if (!isRetriableKafkaError(err)) throw wrapKafkaError(err, 'waiting for topic leaders');
      }
      await sleep(200);
    }
  }

  async describeTopic(topic: string): Promise<TopicDescription> {
    const meta = await this.#admin.fetchTopicMetadata({ topics: [topic] });
    const partitions = (meta.topics.find((t) => t.name === topic)?.partitions ?? [])
      .map((p) => ({ partition: p.partitionId, leader: p.leader, replicas: [...p.replicas], isr: [...p.isr] }))
      .sort((a, b) => a.partition - b.partition);
    return { topic, partitions, configs: (await this.#topicConfigs([topic])).get(topic) ?? {} };
  }

  /** Each topic's own settings (config source TOPIC_CONFIG = 1), without broker defaults. */
  async #topicConfigs(topics: readonly string[]): Promise<Map<string, Record<string, string>>> {
    const res = await this.#admin.describeConfigs({ resources: topics.map((name) => ({ type: 2, name })), includeSynonyms: false });
    return new Map(
      res.resources.map((r) => [r.resourceName, Object.fromEntries(r.configEntries.filter((e) => e.configSource === 1).map((e) => [e.configName, e.configValue]))]),
    );
  }

  async deleteTopics(topics: readonly string[]): Promise<void> {
    await this.#admin.deleteTopics({ topics: [...topics] });
  }

  listTopics(): Promise<string[]> {
    return this.#admin.listTopics();
  }

  async listGroups(): Promise<{ groupId: string; protocolType: string }[]> {
    const { groups } = await this.#admin.listGroups();
    return groups.map((g) => ({ groupId: g.groupId, protocolType: g.protocolType }));
  }

  async describeGroups(groupIds: readonly string[]): Promise<GroupDescription[]> {
    const { groups } = await this.#admin.describeGroups([...groupIds]);
    return groups.map((g) => ({
      groupId: g.groupId,
      state: g.state,
      protocolType: g.protocolType,
      members: g.members.map((m) => ({ memberId: m.memberId, clientId: m.clientId, clientHost: m.clientHost })),
    }));
  }

  async fetchCommittedOffsets(groupId: string, topic: string): Promise<{ partition: number; offset: string }[]> {
    const res = await this.#admin.fetchOffsets({ groupId, topics: [topic] });
    const forTopic = res.find((r) => r.topic === topic);
    return (forTopic?.partitions ?? []).map((p) => ({ partition: p.partition, offset: p.offset }));
  }

  async fetchTopicOffsets(topic: string): Promise<{ partition: number; high: string; low: string }[]> {
    // Refresh metadata first: kafkajs caches it, and partitions may have been added since. A
    // leader that is still moving answers NOT_LEADER once; kafkajs' admin does not retry that here.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#admin.fetchTopicMetadata({ topics: [topic] });
        const res = await this.#admin.fetchTopicOffsets(topic);
        return res.map((p) => ({ partition: p.partition, high: p.high, low: p.low }));
      } catch (err) {
        if (attempt >= 10 || !isRetriableKafkaError(err)) throw wrapKafkaError(err, `offsets of ${topic}`);
        await sleep(200);
      }
    }
  }
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    throw new KauditError('CONFIG_INVALID', `Cannot read the Kafka TLS ${what} ${path}: ${(cause as Error).message}`, { cause });
  }
}

/** Node TLS options for kafkajs; files are read once, here, so a missing one fails at start-up. */
function tlsOptions(tls: KafkaTlsOptions): ConnectionOptions {
  return {
    rejectUnauthorized: true,
    ...(tls.caFile !== undefined ? { ca: [readPem(tls.caFile, 'CA file')] } : {}),
    ...(tls.certFile !== undefined ? { cert: readPem(tls.certFile, 'client certificate file') } : {}),
    ...(tls.keyFile !== undefined ? { key: readPem(tls.keyFile, 'client key file') } : {}),
    ...(tls.servername !== undefined ? { servername: tls.servername } : {}),
  };
}

/** The one place the SASL password is revealed: into kafkajs' own config. */
function saslOptions(sasl: KafkaSaslOptions): SASLOptions {
  const credentials = { username: sasl.username, password: sasl.password.reveal() };
  switch (sasl.mechanism) {
    case 'plain':
      return { mechanism: 'plain', ...credentials };
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', ...credentials };
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', ...credentials };
  }
}

function hostPort(broker: string): { host: string; port: number } {
  const at = broker.lastIndexOf(':');
  return { host: broker.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port: Number(broker.slice(at + 1)) };
}

/**
 * Verifies the first reachable broker's certificate against our trust and server name, and fails
 * for good when it does not verify. Needed because kafkajs turns every socket error, a certificate
 * that can never verify included, into a retriable connection error — a consumer (unlimited retries)
 * would retry it forever. Unreachable brokers are left to kafkajs' own retries.
 */
async function verifyBrokerCertificate(brokers: readonly string[], tls: KafkaTlsOptions, options: ConnectionOptions, timeoutMs: number): Promise<void> {
  for (const broker of brokers) {
    const { host, port } = hostPort(broker);
    const checkedName = tls.servername ?? host;
    const refusal = await new Promise<string | null | undefined>((resolve) => {
      // rejectUnauthorized off only to read the verdict; nothing is sent on this socket.
      const socket = tlsConnect({ host, port, ...(isIP(host) ? {} : { servername: host }), ...options, rejectUnauthorized: false });
      const done = (verdict: string | null | undefined) => {
        clearTimeout(timer);
        socket.destroy();
        resolve(verdict);
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      socket.once('secureConnect', () => done(socket.authorized ? null : String(socket.authorizationError)));
      socket.once('error', () => done(undefined));
    });
    if (refusal === undefined) continue;
    if (refusal === null) return;
    throw new KauditError(
      'KAFKA_AUTH_FAILED',
      `TLS: the certificate of Kafka broker ${broker} is not accepted (${refusal}); checked against ${tls.caFile !== undefined ? `the CA file ${tls.caFile}` : "the system's trusted CAs"} and the server name ${checkedName}`,
      { retryable: false, details: { broker, reason: refusal, servername: checkedName } },
    );
  }
}

/** The few kafkajs protocol internals warmUpCodecs calls (untyped CommonJS; these are the shapes it uses). */
interface KjsEncoder {
  readonly buffer: Buffer;
  writeInt16(v: number): KjsEncoder;
  writeInt32(v: number): KjsEncoder;
  writeInt64(v: number): KjsEncoder;
  writeString(v: string | null): KjsEncoder;
  writeBytes(v: Buffer): KjsEncoder;
  writeArray(v: readonly KjsEncoder[]): KjsEncoder;
}
interface KjsDecoder {
  readString(): string | null;
  readInt16(): number;
  readInt32(): number;
  readBytes(): Buffer;
  readArray<T>(read: (d: KjsDecoder) => T): T[];
}
interface KjsFetchPartition {
  partition: number;
  messages: kafkajs.KafkaMessage[];
}
interface KjsProtocol {
  Encoder: new () => KjsEncoder;
  Decoder: new (buffer: Buffer) => KjsDecoder;
  Long: { fromValue(v: number): unknown };
  createRequest(args: { correlationId: number; clientId: string; request: unknown }): Promise<KjsEncoder>;
  produce: { protocol(v: { version: number }): (args: Record<string, unknown>) => { request: unknown } };
  fetchResponse: { decode(buffer: Buffer): Promise<{ responses: { topicName: string; partitions: KjsFetchPartition[] }[] }>; parse(decoded: unknown): Promise<unknown> };
  Batch: new (topic: string, fetchedOffset: string, partitionData: KjsFetchPartition & { abortedTransactions: unknown[]; highWatermark: string }) => { messages: kafkajs.KafkaMessage[] };
}

/**
 * kafkajs' own protocol modules, resolved from its package as it requires them: CommonJS keeps one instance per
 * file, so these are the very functions (and the JIT's feedback on them) its producers and consumers run.
 */
function kafkajsProtocol(): KjsProtocol {
  const req = createRequire(createRequire(import.meta.url).resolve('kafkajs'));
  return {
    Encoder: req('./src/protocol/encoder.js') as KjsProtocol['Encoder'],
    Decoder: req('./src/protocol/decoder.js') as KjsProtocol['Decoder'],
    Long: req('./src/utils/long.js') as KjsProtocol['Long'],
    createRequest: req('./src/protocol/request.js') as KjsProtocol['createRequest'],
    produce: req('./src/protocol/requests/produce/index.js') as KjsProtocol['produce'],
    fetchResponse: req('./src/protocol/requests/fetch/v11/response.js') as KjsProtocol['fetchResponse'],
    Batch: req('./src/consumer/batch.js') as KjsProtocol['Batch'],
  };
}

const sameBytes = (got: Buffer | null, sent: string | Buffer | null): boolean =>
  got === null || sent === null ? got === sent : got.equals(typeof sent === 'string' ? Buffer.from(sent) : sent);

/** Partitions the warm-up spreads records over: several per request, as a real topic's send has. */
const WARM_UP_PARTITIONS = 6;

/**
 * One produce request (v7: what kafkajs speaks to Kafka ≥ 2.1) built and framed by kafkajs as its producer does —
 * Record, RecordBatch, crc32c, the codec, Encoder — then its record sets read back as a fetch response (v11) and
 * a consumer's Batch, and mapped as a handler's records are: the path of a send and a fetch, minus the socket. No
 * broker, connection or producer is involved, so nothing can reach a topic. The round trip is checked, so a
 * warm-up that ran something else than what it claims fails instead of passing silently.
 */
async function warmUpCodecs(clientId: string, records: readonly OutgoingRecord[], compression: KafkaCompression, topic: string): Promise<CodecWarmUpResult> {
  if (records.length === 0) return { requests: 0, records: 0, bytes: 0 };
  const kjs = kafkajsProtocol();
  const perPartition: OutgoingRecord[][] = Array.from({ length: WARM_UP_PARTITIONS }, () => []);
  records.forEach((r, i) => perPartition[i % WARM_UP_PARTITIONS]?.push(r));
  const partitions = perPartition.flatMap((rs, partition) =>
    rs.length === 0 ? [] : [{ partition, firstSequence: 0, messages: rs.map((r) => ({ key: r.key, value: r.tombstone === true ? null : r.value, ...(r.headers ? { headers: r.headers } : {}) })) }],
  );
  const { request } = kjs.produce.protocol({ version: 7 })({
    acks: -1,
    timeout: 30_000,
    compression: COMPRESSION_TYPES[compression],
    transactionalId: undefined,
    producerId: kjs.Long.fromValue(0),
    producerEpoch: 0,
    topicData: [{ topic, partitions }],
  });
  const framed = (await kjs.createRequest({ correlationId: 1, clientId, request })).buffer;
  // Read the request back: size, api key, version, correlation id, client id, then Produce v3+'s body.
  const d = new kjs.Decoder(framed.subarray(4 + 2 + 2 + 4));
  d.readString();
  d.readString(); // transactional id
  d.readInt16(); // acks
  d.readInt32(); // timeout
  const topics = d.readArray((t) => ({ name: t.readString() ?? '', sets: t.readArray((p) => ({ partition: p.readInt32(), set: p.readBytes() })) }));
  // The same record sets as a broker's fetch response (v11) carrying them.
  const E = kjs.Encoder;
  const response = new E()
    .writeInt32(0) // throttle time
    .writeInt16(0) // error code
    .writeInt32(0) // fetch session
    .writeArray(
      topics.map(({ name, sets }) =>
        new E().writeString(name).writeArray(sets.map(({ partition, set }) => new E().writeInt32(partition).writeInt16(0).writeInt64(1).writeInt64(-1).writeInt64(0).writeArray([]).writeInt32(-1).writeBytes(set))),
      ),
    ).buffer;
  const decoded = await kjs.fetchResponse.decode(response);
  await kjs.fetchResponse.parse(decoded);
  let back = 0;
  for (const { topicName, partitions: got } of decoded.responses) {
    for (const p of got) {
      const batch = new kjs.Batch(topicName, '0', { ...p, abortedTransactions: [], highWatermark: '1' });
      const sent = perPartition[p.partition] ?? [];
      const mapped = toIncomingRecords(topicName, p.partition, batch.messages);
      mapped.forEach((r, i) => {
        const original = sent[i];
        if (original === undefined || !sameBytes(r.value, original.tombstone === true ? null : original.value) || !sameBytes(r.key, original.key)) {
          throw new KauditError('INTERNAL', `codec warm-up: record ${i} of partition ${p.partition} did not decode to what was encoded`);
        }
      });
      back += mapped.length;
    }
  }
  if (back !== records.length) throw new KauditError('INTERNAL', `codec warm-up: ${records.length} records encoded, ${back} decoded`);
  return { requests: 1, records: back, bytes: framed.length };
}

/** Creates kaudit's Kafka client for a broker list. Nothing connects until a component's start(). */
export function createKafkaClient(options: KafkaClientOptions): KafkaClient {
  registerCodecs();
  const connectionTimeout = options.connectionTimeoutMs ?? 3000;
  const ssl = options.ssl === undefined ? undefined : tlsOptions(options.ssl);
  const kafka = new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    connectionTimeout,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    logLevel: logLevel.WARN,
    logCreator: toKafkajsLogger(options.logger),
    ...(ssl !== undefined ? { ssl } : {}),
    ...(options.sasl !== undefined ? { sasl: saslOptions(options.sasl) } : {}),
  });
  const tls = options.ssl;
  const verifyTls: () => Promise<void> =
    tls === undefined || ssl === undefined ? () => Promise.resolve() : () => verifyBrokerCertificate(options.brokers, tls, ssl, connectionTimeout);
  return {
    producer: (producerOptions = {}) => new KjsProducerAdapter(kafka, producerOptions, verifyTls),
    consumer: (consumerOptions) => new KjsBatchConsumer(kafka, consumerOptions, options.logger, verifyTls),
    admin: () => new KjsAdminAdapter(kafka, verifyTls),
    warmUpCodecs: (records, warmUp = {}) => warmUpCodecs(options.clientId, records, warmUp.compression ?? 'none', warmUp.topic ?? 'kaudit.warm-up'),
  };
}
