/**
 * The benchmarks' raw baselines use kafkajs directly (that is what "raw" means); this is the one bench
 * file that imports it, so the production boundary — kafkajs only in libs/kafka/src/kafkajs-adapter.ts —
 * stays easy to check.
 */
import kafkajs from 'kafkajs';

export { Kafka, logLevel } from 'kafkajs';
// CommonJS: not visible as a named ESM export. The codecs themselves are registered by createKafkaClient.
export const { CompressionTypes } = kafkajs;

/** kafkajs' code of each of kaudit's compression names, for a raw baseline to compress as the stage does. */
export const RAW_CODECS = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP, lz4: CompressionTypes.LZ4, zstd: CompressionTypes.ZSTD } as const;
