import { join } from 'node:path';
import { readEnv } from '@kaudit/config';
import { createLogger } from '@kaudit/logging';
import { createEphemeralStack } from '@kaudit/stack';
import { TEST_ENV } from './test-env.js';

/**
 * One real Kafka and one real ClickHouse for the whole suite, on free ports (never the dev
 * defaults), under .kaudit/stack/test (vitest.config.ts names this file as globalSetup). Tests isolate themselves by unique topic and database
 * names. With KAFKA_BROKERS / CLICKHOUSE_URL set, those engines are used and nothing is started.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const env = readEnv();
  const root = join(import.meta.dirname, '..', '..', '..', '.kaudit');
  const logger = createLogger({ service: 'test-stack', level: env.KAUDIT_TEST_LOG ?? 'warn' });
  const stack = await createEphemeralStack({ root, name: 'test', logger, env });
  const began = Date.now();
  const endpoints = await stack.up();
  console.log(`[global-setup] test stack ready in ${Date.now() - began} ms: kafka ${endpoints.kafkaBrokers}, clickhouse ${endpoints.clickhouseUrl}`);
  // Test workers are forked after this runs and inherit the environment. (vitest's provide/inject
  // would be nicer, but its ProvidedContext type cannot be augmented reliably through 'vitest'.)
  process.env[TEST_ENV.kafkaBrokers] = endpoints.kafkaBrokers;
  process.env[TEST_ENV.clickhouseUrl] = endpoints.clickhouseUrl;
  const kafkaDataDir = stack.kafkaDataDir();
  if (kafkaDataDir !== undefined) process.env[TEST_ENV.kafkaDataDir] = kafkaDataDir;
  return async () => {
    await stack.down();
  };
}
