import type { KauditError } from '@kaudit/errors';

/**
 * kaudit's own Kafka interface. Only kafkajs-adapter.ts implements it, so swapping kafkajs (in
 * maintenance mode) for another client touches one file.
 */

export interface OutgoingRecord {
  key: string | Buffer | null;
  value: string | Buffer;
  headers?: Record<string, string | Buffer>;
  partition?: number;
  /** Send a null value instead of `value`: on a compacted topic, compaction then removes the key. */
  tombstone?: boolean;
}

export interface IncomingRecord {
  topic: string;
  partition: number;
  /** Offsets stay strings: they are int64 and must not lose precision. */
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer>;
  /** Broker/producer timestamp, ms since epoch, as a string (int64). */
  timestamp: string;
}

export interface RecordBatch {
  topic: string;
  partition: number;
  records: IncomingRecord[];
  firstOffset: string;
  lastOffset: string;
  highWatermark: string;
}

export interface ProduceAck {
  topic: string;
  partition: number;
  baseOffset: string;
}

/** Codec of the record batches a producer writes (KAFKA_COMPRESSION). Consumers read every one of them. */
export type KafkaCompression = 'none' | 'gzip' | 'lz4' | 'zstd';

export interface ProducerOptions {
  /** A send not acknowledged by then fails with KAFKA_UNAVAILABLE (the write may still land later). */
  sendTimeoutMs?: number;
  /** Default `none`. */
  compression?: KafkaCompression;
}

export interface Producer {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Resolves only when every record is acknowledged by all in-sync replicas (acks=-1, idempotent). */
  send(topic: string, records: readonly OutgoingRecord[]): Promise<ProduceAck[]>;
}

export interface BatchContext {
  /** Keep group membership alive during long work. */
  heartbeat(): Promise<void>;
  /** False once stop() was called or the partition was revoked: stop early, the batch will be redelivered. */
  isRunning(): boolean;
  /**
   * The group generation this batch was fetched in. A number this handler has not seen for the partition means
   * the partition was (re)assigned since its last batch: another member may have been working on it.
   */
  readonly generation: number;
}

/**
 * Processes one batch of one partition. Resolving means the work is durable; the consumer then
 * commits lastOffset+1. Throwing means "try again": the consumer retries with backoff, never skips.
 * Bad records must be dead-lettered by the handler, not thrown.
 */
export type BatchHandler = (batch: RecordBatch, ctx: BatchContext) => Promise<void>;

export interface ConsumerOptions {
  groupId: string;
  topics: readonly string[];
  /** Where a group with no committed offset starts. */
  fromBeginning?: boolean;
  sessionTimeoutMs?: number;
  /** Upper bound of bytes fetched per partition per request; bounds memory per batch. */
  maxBytesPerPartition?: number;
  /**
   * Fetch batching (issue 16): the broker holds a fetch until `fetchMinBytes` are there (default 1) or
   * `fetchMaxWaitMs` passed (default 5000); a fetch response holds at most `fetchMaxBytes` (default 10 MiB).
   */
  fetchMinBytes?: number;
  fetchMaxWaitMs?: number;
  fetchMaxBytes?: number;
  /** Backoff between handler retries. */
  retryInitialMs?: number;
  retryMaxMs?: number;
  /**
   * Partitions handled at the same time (default 1). More lets one partition's CPU work overlap
   * another's I/O; each partition still sees its batches in order, one at a time.
   */
  partitionsConsumedConcurrently?: number;
  /** Called when a handler attempt failed and will be retried. */
  onHandlerError?: (err: unknown, batch: RecordBatch, attempt: number) => void;
  /**
   * Fetch nothing new while a batch is being retried after a failure this says is worth pausing for (the sink: a
   * ClickHouse outage), so memory stays at the batches in hand instead of growing with the backlog. Fetching
   * resumes once no batch is being retried any more: it succeeded, or it was fenced (a rebalance) or stopped and
   * left uncommitted for the partition's next owner. The pause is bound to the retry, not to a later success: a
   * pause that outlived its batch would never be lifted, since nothing more would be fetched to succeed.
   */
  pauseWhileRetrying?: (err: unknown) => boolean;
  /** Told when fetching pauses for a retry (with the error that paused it) and when it resumes. */
  onFetchPaused?: (err: unknown) => void;
  onFetchResumed?: () => void;
  /**
   * Told when the client library's consumer crashed (see ConsumerCrash): it restarts by itself, or it stopped for
   * good and this consumer consumes nothing more. Not told of anything once stop() was called.
   */
  onCrash?: (crash: ConsumerCrash) => void;
}

/**
 * The client's consumer crashed. `restarting`: it rejoins its group by itself (a transient failure). Otherwise it
 * stopped for good — a failure the client does not retry, e.g. GROUP_AUTHORIZATION_FAILED — and nothing more is
 * fetched until the process starts a new one: the service must not stay up as if it were consuming.
 */
export interface ConsumerCrash {
  groupId: string;
  restarting: boolean;
  /** KAFKA_UNAVAILABLE when restarting; for good, KAFKA_REJECTED or KAFKA_AUTH_FAILED (the broker refused) or KAFKA_ERROR. */
  error: KauditError;
}

export interface BatchConsumer {
  start(handler: BatchHandler): Promise<void>;
  stop(): Promise<void>;
  /** Resolves once the consumer has joined its group and been assigned partitions. */
  waitForAssignment(timeoutMs?: number): Promise<void>;
}

export interface TopicSpec {
  topic: string;
  partitions: number;
  replicationFactor?: number;
  configs?: Record<string, string>;
}

export interface ClusterInfo {
  clusterId: string;
  controller: number | null;
  brokers: { nodeId: number; host: string; port: number }[];
}

export interface GroupDescription {
  groupId: string;
  state: string;
  protocolType: string;
  members: { memberId: string; clientId: string; clientHost: string }[];
}

export interface TopicDescription {
  topic: string;
  partitions: { partition: number; leader: number; replicas: number[]; isr: number[] }[];
  /** Settings made on the topic itself (not broker defaults), e.g. `min.insync.replicas`. */
  configs: Record<string, string>;
}

export interface KafkaAdmin {
  start(): Promise<void>;
  stop(): Promise<void>;
  describeCluster(): Promise<ClusterInfo>;
  /** Creates missing topics, grows partition counts, and applies configs. Idempotent. */
  ensureTopics(specs: readonly TopicSpec[]): Promise<void>;
  deleteTopics(topics: readonly string[]): Promise<void>;
  /** Partitions with their replicas and in-sync replicas, and the topic's own settings. */
  describeTopic(topic: string): Promise<TopicDescription>;
  listTopics(): Promise<string[]>;
  listGroups(): Promise<{ groupId: string; protocolType: string }[]>;
  describeGroups(groupIds: readonly string[]): Promise<GroupDescription[]>;
  /** Committed offset per partition for a group (-1 when none). */
  fetchCommittedOffsets(groupId: string, topic: string): Promise<{ partition: number; offset: string }[]>;
  /** Latest offset (high watermark) per partition. */
  fetchTopicOffsets(topic: string): Promise<{ partition: number; high: string; low: string }[]>;
}

/** TLS to the brokers. Files are PEM; without `caFile` the system's trusted CAs apply. */
export interface KafkaTlsOptions {
  caFile?: string;
  /** Client certificate and its key, for brokers that require one (mTLS); both or neither. */
  certFile?: string;
  keyFile?: string;
  /** Name the broker certificate must carry, when it is not the host in the broker address. */
  servername?: string;
}

export type KafkaSaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

export interface KafkaSaslOptions {
  mechanism: KafkaSaslMechanism;
  username: string;
  /** libs/config's Secret fits: the password is revealed only where the client is built, never logged. */
  password: { reveal(): string };
}

/** How to reach a secured Kafka; both absent means plaintext without authentication (the local stack). */
export interface KafkaSecurityOptions {
  ssl?: KafkaTlsOptions | undefined;
  sasl?: KafkaSaslOptions | undefined;
}

/** What warmUpCodecs ran: requests encoded and decoded back, and their records and bytes. Nothing was sent. */
export interface CodecWarmUpResult {
  requests: number;
  records: number;
  bytes: number;
}

export interface KafkaClient {
  producer(options?: ProducerOptions): Producer;
  consumer(options: ConsumerOptions): BatchConsumer;
  admin(): KafkaAdmin;
  /**
   * Runs the client library's own produce-request encoding and fetch-response decoding over `records`
   * in this process, without a broker (nothing is sent, no connection is made): a start-up warm-up, so
   * the first real sends and fetches do not run that code cold (issue 15 §1). Rejects if the records do
   * not decode back to what was encoded. `topic` is only the name written into the request (the real one's
   * length and bytes); `compression` should be the producers' codec.
   */
  warmUpCodecs(records: readonly OutgoingRecord[], options?: { compression?: KafkaCompression; topic?: string }): Promise<CodecWarmUpResult>;
}
