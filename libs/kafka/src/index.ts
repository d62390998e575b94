export type {
  BatchConsumer,
  BatchContext,
  BatchHandler,
  ClusterInfo,
  CodecWarmUpResult,
  ConsumerCrash,
  ConsumerOptions,
  GroupDescription,
  IncomingRecord,
  KafkaAdmin,
  KafkaClient,
  KafkaCompression,
  KafkaSaslMechanism,
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
export { createKafkaClient, type KafkaClientOptions } from './kafkajs-adapter.js';
export { TOPICS, DEFAULT_TOPIC_SPECS, RAW_HEADERS, RAW_EVENT_INDEX_HEADER, ENRICHED_EVENT_INDEX_HEADER, type TopicName } from './topics.js';
export { decodeEnrichedBatch, encodeEnrichedBatches, isEnrichedBatch, ENRICHED_BATCH_LIMITS, ENRICHED_BATCH_MAGIC, type DecodedEnrichedBatch, type EnrichedBatchLimits } from './enriched-batch-codec.js';
export { splitEnrichedRecord, type SplitEnrichedRecord } from './split-enriched-record.js';
export { groupEnrichedRecords } from './group-enriched-records.js';
export { encodeFrames, decodeFrames, frameLayout, isFramed, type Frame, type FrameLayout, type FrameLimits, type DecodedFrames } from './length-prefixed-frames.js';
export { decodeRawBatch, encodeRawBatches, isRawBatch, RAW_BATCH_LIMITS, RAW_BATCH_MAGIC, type DecodedRawBatch, type RawBatchEvent, type RawBatchLimits } from './raw-batch-codec.js';
export { DeadLetterWriter, DLQ_HEADERS, type DeadLetterReason, type DeadLetterOriginal } from './dead-letter-writer.js';
export { headerString } from './headers.js';
export { superviseConsumers, type ConsumerSupervision } from './supervise-consumers.js';
export { splitRawRecord, type SplitRawRecord } from './split-raw-record.js';
export { FetchGatherer, type FlushBlock, type Gathered, type GatherLimits } from './fetch-gatherer.js';
