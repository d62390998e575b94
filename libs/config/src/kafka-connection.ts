import { z } from 'zod';
import { csvList, booleanish } from './env.js';
import { loadConfig, type EnvMap } from './load-config.js';
import { secret, type Secret } from './secret.js';

export const KAFKA_SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type KafkaSaslMechanismName = (typeof KAFKA_SASL_MECHANISMS)[number];

/** Record-batch codecs a producer may write (KAFKA_COMPRESSION); consumers read them all whatever is set. */
export const KAFKA_COMPRESSIONS = ['none', 'gzip', 'lz4', 'zstd'] as const;
export type KafkaCompressionName = (typeof KAFKA_COMPRESSIONS)[number];

/** Measured in bench/compression.ts; the figures and the reason for this choice are in docs/operating.md. */
export const DEFAULT_KAFKA_COMPRESSION: KafkaCompressionName = 'zstd';

/** TLS settings once validated: present only when TLS is on. */
export interface KafkaTlsSettings {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  servername?: string;
}

/** SASL settings once validated: present only when a mechanism is chosen, and then complete. */
export interface KafkaSaslSettings {
  mechanism: KafkaSaslMechanismName;
  username: string;
  password: Secret;
}

export interface KafkaSecuritySettings {
  ssl: KafkaTlsSettings | undefined;
  sasl: KafkaSaslSettings | undefined;
}

const file = () => z.string().min(1).optional();

const sslSchema = z
  .object({
    enabled: booleanish().default(false),
    caFile: file(),
    certFile: file(),
    keyFile: file(),
    servername: z.string().min(1).optional(),
  })
  .superRefine((v, ctx) => {
    const given = (['caFile', 'certFile', 'keyFile', 'servername'] as const).filter((k) => v[k] !== undefined);
    // Settings for TLS with TLS off would mean plaintext to a broker the operator meant to secure.
    if (!v.enabled && given.length > 0) ctx.addIssue({ code: 'custom', path: ['enabled'], message: `must be true when TLS settings are given (${given.join(', ')})` });
    if ((v.certFile === undefined) !== (v.keyFile === undefined)) {
      ctx.addIssue({ code: 'custom', path: [v.certFile === undefined ? 'certFile' : 'keyFile'], message: 'a client certificate needs both its certificate file and its key file' });
    }
  })
  .transform(({ enabled, ...files }): KafkaTlsSettings | undefined => (enabled ? files : undefined));

const saslSchema = z
  .object({
    mechanism: z.preprocess((v) => (typeof v === 'string' ? v.trim().toLowerCase() : v), z.enum(KAFKA_SASL_MECHANISMS)).optional(),
    username: z.string().min(1).optional(),
    password: secret().optional(),
  })
  .superRefine((v, ctx) => {
    if (v.mechanism === undefined) {
      if (v.username !== undefined || v.password !== undefined) ctx.addIssue({ code: 'custom', path: ['mechanism'], message: `required when a SASL username or password is given (one of ${KAFKA_SASL_MECHANISMS.join(', ')})` });
      return;
    }
    if (v.username === undefined) ctx.addIssue({ code: 'custom', path: ['username'], message: `required for SASL ${v.mechanism}` });
    if (v.password === undefined) ctx.addIssue({ code: 'custom', path: ['password'], message: `required for SASL ${v.mechanism}` });
  })
  .transform((v): KafkaSaslSettings | undefined =>
    v.mechanism !== undefined && v.username !== undefined && v.password !== undefined ? { mechanism: v.mechanism, username: v.username, password: v.password } : undefined,
  );

/** The TLS and SASL part of a Kafka client's settings (every service, the CLI, the stack). */
export function kafkaSecurityFields() {
  return { ssl: sslSchema.prefault({}), sasl: saslSchema.prefault({}) };
}

/**
 * The Kafka connection part of a service's `kafka` section, shared so every service reads the same
 * variables the same way: spread it into the section's `z.object({...})`.
 */
export function kafkaConnectionFields() {
  return {
    brokers: csvList().pipe(z.array(z.string()).min(1, 'at least one broker (host:port)')),
    ...kafkaSecurityFields(),
    compression: z.preprocess((v) => (typeof v === 'string' ? v.trim().toLowerCase() : v), z.enum(KAFKA_COMPRESSIONS)).default(DEFAULT_KAFKA_COMPRESSION),
  };
}

/** Environment variables of kafkaSecurityFields under `section` (the config path of the Kafka section). */
export function kafkaSecurityEnv(section = 'kafka'): EnvMap {
  return {
    [`${section}.ssl.enabled`]: 'KAFKA_SSL',
    [`${section}.ssl.caFile`]: 'KAFKA_SSL_CA_FILE',
    [`${section}.ssl.certFile`]: 'KAFKA_SSL_CERT_FILE',
    [`${section}.ssl.keyFile`]: 'KAFKA_SSL_KEY_FILE',
    [`${section}.ssl.servername`]: 'KAFKA_SSL_SERVERNAME',
    [`${section}.sasl.mechanism`]: 'KAFKA_SASL_MECHANISM',
    [`${section}.sasl.username`]: 'KAFKA_SASL_USERNAME',
    [`${section}.sasl.password`]: 'KAFKA_SASL_PASSWORD',
  };
}

/** Environment variables of kafkaConnectionFields under `section`. */
export function kafkaConnectionEnv(section = 'kafka'): EnvMap {
  return { [`${section}.brokers`]: 'KAFKA_BROKERS', ...kafkaSecurityEnv(section), [`${section}.compression`]: 'KAFKA_COMPRESSION' };
}

const securityOnly = z.object({ kafka: z.object(kafkaSecurityFields()) });

const compressionOnly = z.object({ kafka: z.object({ compression: kafkaConnectionFields().compression }) });

/** The producers' codec (KAFKA_COMPRESSION) from the environment alone, for clients whose broker list comes from elsewhere (CLI). */
export function loadKafkaCompression(env: Readonly<Record<string, string | undefined>>, name = 'Kafka connection'): KafkaCompressionName {
  return loadConfig(compressionOnly, { env, envMap: { 'kafka.compression': 'KAFKA_COMPRESSION' }, name }).kafka.compression;
}

/** TLS and SASL from the environment alone, for clients whose broker list comes from elsewhere (CLI, stack). */
export function loadKafkaSecurity(env: Readonly<Record<string, string | undefined>>, name = 'Kafka connection'): KafkaSecuritySettings {
  return loadConfig(securityOnly, { env, envMap: kafkaSecurityEnv(), name }).kafka;
}
