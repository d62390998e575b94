import { z } from 'zod';
import { booleanish, csvList, kafkaConnectionEnv, kafkaConnectionFields, loadConfig, readConfigFile, type EnvMap } from '@kaudit/config';
import { KauditError } from '@kaudit/errors';
import { TOPICS } from '@kaudit/kafka';
import { notifiersFileSchema, type NotifierConfig } from './notifiers/registry.js';

export const alertConfigSchema = z.object({
  kafka: z.object({
    ...kafkaConnectionFields(),
    clientId: z.string().default('kaudit-alert'),
    /** Evaluator group is `<groupPrefix>`; each destination's is `<groupPrefix>-deliver-<name>`. */
    groupPrefix: z.string().min(1).default('kaudit-alert'),
    /** Topic overrides exist for tests (unique topics on a shared broker); production keeps the defaults. */
    // Both enriched layouts by default (upgrade: sink and alert first, then enrich); a comma-separated list.
    enrichedTopics: csvList().pipe(z.array(z.string().min(1)).min(1, 'at least one topic')).default([TOPICS.enriched, TOPICS.enrichedV1]),
    alertsTopic: z.string().min(1).default(TOPICS.alerts),
    dlqTopic: z.string().min(1).default(TOPICS.dlq),
    /** Compacted topic holding window state and delivered ids (see CheckpointStore). */
    stateTopic: z.string().min(1).default('kaudit.alert-state.v1'),
    /** A brand-new evaluator group starts at the oldest retained event (true) or at new ones only. */
    fromBeginning: booleanish().default(false),
    /**
     * Evaluator partitions handled at once: as many as the enriched topic has by default, so the batches of one
     * fetch are made durable in one round (one produce of alerts, one of checkpoints) instead of one per partition.
     * Each delivery worker handles as many alerts partitions at once (the alerts topic has fewer), its delivered
     * ids written in one round too.
     */
    partitionsConcurrently: z.coerce.number().int().min(1).max(64).default(6),
  }),
  rules: z.object({ dir: z.string().min(1).default('rules') }),
  /** YAML file with `notifiers: [...]`; without it alerts only go to Kafka. `${VAR}` in it reads the environment. */
  notifiersFile: z.string().min(1).optional(),
  engine: z.object({
    /** A partition without new records for this long closes its due dedup windows by the wall clock. */
    idleGraceMs: z.coerce.number().int().min(0).default(5000),
    tickMs: z.coerce.number().int().min(50).default(1000),
    /** Open groups per rule and partition; past it the oldest goes (a dedup window is emitted early, counted). */
    maxGroupsPerRule: z.coerce.number().int().min(1).default(100_000),
    /** How long a binding waits for its role's fact when that role's write is read later (issue 15 §2). */
    roleFactGraceMs: z.coerce.number().int().min(0).default(60_000),
    /**
     * Events (the rules' own test events, over and over) run through decode and every rule at start,
     * before the consumers start and /readyz turns 200, so the first real events are not evaluated
     * cold (issue 15 §1); 0 = none. Bounded by warmUpMaxMs.
     */
    warmUpEvents: z.coerce.number().int().min(0).default(10_000),
    warmUpMaxMs: z.coerce.number().int().min(0).default(5000),
  }),
  delivery: z.object({
    maxAgeMs: z.coerce.number().int().min(1000).default(3_600_000),
    recentIds: z.coerce.number().int().min(100).default(10_000),
    requestTimeoutMs: z.coerce.number().int().min(100).default(10_000),
  }),
  http: z.object({
    host: z.string().default('127.0.0.1'),
    port: z.coerce.number().int().min(0).max(65535).default(9103),
  }),
  shutdownTimeoutMs: z.coerce.number().int().min(100).default(20_000),
  logLevel: z.string().default('info'),
});

export type AlertConfig = z.output<typeof alertConfigSchema>;

export const ALERT_ENV: EnvMap = {
  ...kafkaConnectionEnv(),
  'kafka.groupPrefix': 'ALERT_GROUP_PREFIX',
  'kafka.enrichedTopics': 'ALERT_ENRICHED_TOPIC',
  'kafka.alertsTopic': 'ALERT_ALERTS_TOPIC',
  'kafka.dlqTopic': 'ALERT_DLQ_TOPIC',
  'kafka.stateTopic': 'ALERT_STATE_TOPIC',
  'kafka.fromBeginning': 'ALERT_FROM_BEGINNING',
  'kafka.partitionsConcurrently': 'ALERT_PARTITIONS_CONCURRENTLY',
  'rules.dir': 'ALERT_RULES_DIR',
  notifiersFile: 'ALERT_NOTIFIERS_FILE',
  'engine.idleGraceMs': 'ALERT_IDLE_GRACE_MS',
  'engine.tickMs': 'ALERT_TICK_MS',
  'engine.maxGroupsPerRule': 'ALERT_MAX_GROUPS_PER_RULE',
  'engine.roleFactGraceMs': 'ALERT_ROLE_FACT_GRACE_MS',
  'engine.warmUpEvents': 'ALERT_WARM_UP_EVENTS',
  'engine.warmUpMaxMs': 'ALERT_WARM_UP_MAX_MS',
  'delivery.maxAgeMs': 'ALERT_MAX_AGE_MS',
  'delivery.recentIds': 'ALERT_RECENT_IDS',
  'delivery.requestTimeoutMs': 'ALERT_NOTIFIER_TIMEOUT_MS',
  'http.host': 'HTTP_HOST',
  'http.port': 'HTTP_PORT',
  shutdownTimeoutMs: 'SHUTDOWN_TIMEOUT_MS',
  logLevel: 'LOG_LEVEL',
};

export function loadAlertConfig(env: Readonly<Record<string, string | undefined>>): Readonly<AlertConfig> {
  return loadConfig(alertConfigSchema, { env, envMap: ALERT_ENV, name: 'alert config' });
}

/** Replaces `${NAME}` in every string of a parsed file, so webhook URLs and keys can stay in the environment. */
function substituteEnv(value: unknown, env: Readonly<Record<string, string | undefined>>, missing: Set<string>): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Z_][A-Z0-9_]*)\}/g, (_m, name: string) => {
      const v = env[name];
      if (v === undefined) missing.add(name);
      return v ?? '';
    });
  }
  if (Array.isArray(value)) return value.map((v) => substituteEnv(v, env, missing));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteEnv(v, env, missing)]));
  }
  return value;
}

/** Parses a notifiers file (pure: the caller read it); lists every problem at once. */
export function parseNotifiers(raw: unknown, env: Readonly<Record<string, string | undefined>>, file: string): NotifierConfig[] {
  const missing = new Set<string>();
  const substituted = substituteEnv(raw, env, missing);
  const problems = [...missing].map((name) => `environment variable ${name} is not set`);
  const result = notifiersFileSchema.safeParse(substituted);
  if (!result.success) problems.push(...result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  if (problems.length > 0) throw new KauditError('CONFIG_INVALID', `Invalid notifiers file ${file}:\n  ${problems.join('\n  ')}`);
  return (result.data as z.output<typeof notifiersFileSchema>).notifiers;
}

export function loadNotifiers(file: string | undefined, env: Readonly<Record<string, string | undefined>>): NotifierConfig[] {
  return file === undefined ? [] : parseNotifiers(readConfigFile(file), env, file);
}
