import { z } from 'zod';
import { loadConfig } from '@kaudit/config';

/** Where the stack's engines listen and whether to use external ones (DESIGN.md: local default ports). */
export const stackConfigSchema = z.object({
  kafkaPort: z.coerce.number().int().min(1).max(65535).default(9092),
  kafkaControllerPort: z.coerce.number().int().min(1).max(65535).default(9093),
  clickhouseHttpPort: z.coerce.number().int().min(1).max(65535).default(8123),
  externalKafka: z.string().min(1).optional(),
  externalClickHouse: z.string().url().optional(),
});

export type StackConfig = z.output<typeof stackConfigSchema>;

export const STACK_ENV = {
  kafkaPort: 'KAUDIT_KAFKA_PORT',
  kafkaControllerPort: 'KAUDIT_KAFKA_CONTROLLER_PORT',
  clickhouseHttpPort: 'KAUDIT_CLICKHOUSE_PORT',
  externalKafka: 'KAFKA_BROKERS',
  externalClickHouse: 'CLICKHOUSE_URL',
} as const;

export function loadStackConfig(env: Readonly<Record<string, string | undefined>>): StackConfig {
  return loadConfig(stackConfigSchema, { env, envMap: STACK_ENV, name: 'stack config' });
}
