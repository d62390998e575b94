/**
 * The benchmarks' raw baselines use kafkajs directly (that is what "raw" means); this is the one bench
 * file that imports it, so the production boundary — kafkajs only in libs/kafka/src/kafkajs-adapter.ts —
 * stays easy to check.
 */
export { Kafka, logLevel } from 'kafkajs';
