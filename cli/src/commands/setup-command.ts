import { join } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { createClickHouse, runMigrations } from '@kaudit/clickhouse';
import { loadConfig, loadKafkaSecurity } from '@kaudit/config';
import { createKafkaClient, DEFAULT_TOPIC_SPECS, type KafkaSecurityOptions, type TopicSpec } from '@kaudit/kafka';
import type { Logger } from '@kaudit/logging';
import type { CliDeps } from '../build-program.js';

export interface SetupTarget {
  kafkaBrokers: string;
  /** TLS and SASL for kafkaBrokers (KAFKA_SSL*, KAFKA_SASL_*); absent: plaintext. */
  kafkaSecurity?: KafkaSecurityOptions;
  /** Replicas of each new topic and its min.insync.replicas; absent: the broker's defaults (one broker: 1). */
  topicReplicationFactor?: number;
  topicMinInsyncReplicas?: number;
  clickhouseUrl: string;
  clickhouseUser?: string;
  clickhousePassword?: string;
  database: string;
  retentionDays: number;
  migrationsDir: string;
}

/** kaudit's topics with the replication asked for in setup. */
export function setupTopicSpecs(target: Pick<SetupTarget, 'topicReplicationFactor' | 'topicMinInsyncReplicas'>): TopicSpec[] {
  return DEFAULT_TOPIC_SPECS.map((spec) => ({
    ...spec,
    ...(target.topicReplicationFactor !== undefined ? { replicationFactor: target.topicReplicationFactor } : {}),
    ...(target.topicMinInsyncReplicas !== undefined ? { configs: { ...spec.configs, 'min.insync.replicas': String(target.topicMinInsyncReplicas) } } : {}),
  }));
}

const replicationSchema = z
  .object({
    replicationFactor: z.coerce.number().int().min(1).optional(),
    minInsyncReplicas: z.coerce.number().int().min(1).optional(),
  })
  // More required in-sync replicas than replicas would refuse every acks=all write, for good.
  .refine((r) => r.minInsyncReplicas === undefined || r.minInsyncReplicas <= (r.replicationFactor ?? 1), {
    path: ['minInsyncReplicas'],
    message: 'must not exceed the replication factor (KAUDIT_TOPIC_REPLICATION_FACTOR, 1 when unset)',
  });

/** Creates kaudit's topics and applies pending ClickHouse migrations. Idempotent: safe on every start. */
export async function setupPipeline(target: SetupTarget, logger: Logger): Promise<{ topics: string[]; applied: string[] }> {
  const log = logger.child({ component: 'setup' });
  const admin = createKafkaClient({ brokers: target.kafkaBrokers.split(','), clientId: 'kaudit-setup', logger, ...target.kafkaSecurity }).admin();
  await admin.start();
  try {
    await admin.ensureTopics(setupTopicSpecs(target));
  } finally {
    await admin.stop();
  }
  const topics = DEFAULT_TOPIC_SPECS.map((t) => t.topic);
  log.info({ event: 'topics_ready', topics }, 'topics_ready');
  const client = createClickHouse({ url: target.clickhouseUrl, ...(target.clickhouseUser ? { username: target.clickhouseUser } : {}), ...(target.clickhousePassword ? { password: target.clickhousePassword } : {}) });
  try {
    const result = await runMigrations({ client, dir: target.migrationsDir, database: target.database, logger, vars: { retention_days: target.retentionDays } });
    log.info({ event: 'migrations_ready', applied: result.applied.length, skipped: result.skipped.length }, 'migrations_ready');
    return { topics, applied: result.applied };
  } finally {
    await client.close();
  }
}

/** Reads the setup target from the environment (the same variables the services use). */
export function setupTargetFromEnv(deps: CliDeps, defaults: { kafkaBrokers: string; clickhouseUrl: string }): SetupTarget {
  const env = deps.env;
  const retentionDays = Number(env.KAUDIT_RETENTION_DAYS ?? '365');
  const replication = loadConfig(replicationSchema, {
    env,
    envMap: { replicationFactor: 'KAUDIT_TOPIC_REPLICATION_FACTOR', minInsyncReplicas: 'KAUDIT_TOPIC_MIN_INSYNC_REPLICAS' },
    name: 'setup topics',
  });
  return {
    kafkaBrokers: env.KAFKA_BROKERS ?? defaults.kafkaBrokers,
    kafkaSecurity: loadKafkaSecurity(env),
    ...(replication.replicationFactor !== undefined ? { topicReplicationFactor: replication.replicationFactor } : {}),
    ...(replication.minInsyncReplicas !== undefined ? { topicMinInsyncReplicas: replication.minInsyncReplicas } : {}),
    clickhouseUrl: env.CLICKHOUSE_URL ?? defaults.clickhouseUrl,
    ...(env.CLICKHOUSE_USER ? { clickhouseUser: env.CLICKHOUSE_USER } : {}),
    ...(env.CLICKHOUSE_PASSWORD ? { clickhousePassword: env.CLICKHOUSE_PASSWORD } : {}),
    database: env.CLICKHOUSE_DATABASE ?? 'kaudit',
    retentionDays: Number.isInteger(retentionDays) && retentionDays > 0 ? retentionDays : 365,
    migrationsDir: join(deps.paths.root, 'migrations', 'clickhouse'),
  };
}

export function registerSetupCommand(program: Command, deps: CliDeps): void {
  program
    .command('setup')
    .description('create the Kafka topics and apply ClickHouse migrations (idempotent; run before the services)')
    .action(async () => {
      const result = await setupPipeline(setupTargetFromEnv(deps, { kafkaBrokers: '127.0.0.1:9092', clickhouseUrl: 'http://127.0.0.1:8123' }), deps.logger);
      deps.out(`topics: ${result.topics.join(', ')}\nmigrations applied: ${result.applied.length === 0 ? 'none (up to date)' : result.applied.join(', ')}`);
    });
}
