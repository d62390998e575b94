import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '@kaudit/logging';
import { LocalStack } from './local-stack.js';
import { freePort } from './process-control.js';

export interface EphemeralStackOptions {
  root: string;
  name: string;
  logger: Logger;
  /** KAFKA_BROKERS / CLICKHOUSE_URL, when set, replace the local engine (nothing is started for it). */
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * A throw-away stack for tests and benchmarks: a clean data folder and free ports (never the dev
 * defaults), so it runs beside a developer's own stack.
 */
export async function createEphemeralStack(options: EphemeralStackOptions): Promise<LocalStack> {
  rmSync(join(options.root, 'stack', options.name), { recursive: true, force: true });
  const env = options.env ?? {};
  return new LocalStack({
    root: options.root,
    name: options.name,
    kafkaPort: await freePort(),
    kafkaControllerPort: await freePort(),
    clickhouseHttpPort: await freePort(),
    ...(env.KAFKA_BROKERS ? { externalKafka: env.KAFKA_BROKERS } : {}),
    ...(env.CLICKHOUSE_URL ? { externalClickHouse: env.CLICKHOUSE_URL } : {}),
    logger: options.logger,
  });
}
