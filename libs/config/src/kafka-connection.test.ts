import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError } from './config-error.js';
import { kafkaConnectionEnv, kafkaConnectionFields, loadKafkaCompression, loadKafkaSecurity } from './kafka-connection.js';
import { loadConfig } from './load-config.js';

const schema = z.object({ kafka: z.object({ ...kafkaConnectionFields(), clientId: z.string().default('svc') }) });
const load = (env: Record<string, string>) => loadConfig(schema, { env, envMap: kafkaConnectionEnv(), name: 'svc config' });

function problems(env: Record<string, string>): { path: string; env?: string; message: string }[] {
  try {
    load(env);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  throw new Error('config was accepted');
}

describe('kafka connection settings', () => {
  it('plaintext without authentication when nothing but brokers is set', () => {
    const cfg = load({ KAFKA_BROKERS: 'a:9092,b:9092' });
    expect(cfg.kafka).toMatchObject({ brokers: ['a:9092', 'b:9092'], ssl: undefined, sasl: undefined, clientId: 'svc' });
  });

  it('reads TLS and SASL from the environment and keeps the password out of logs and JSON', () => {
    const cfg = load({
      KAFKA_BROKERS: 'kafka-0.example.com:9093',
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: '/etc/kafka/ca.pem',
      KAFKA_SSL_CERT_FILE: '/etc/kafka/client.pem',
      KAFKA_SSL_KEY_FILE: '/etc/kafka/client.key',
      KAFKA_SSL_SERVERNAME: 'kafka.example.com',
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      KAFKA_SASL_USERNAME: 'kaudit-ingest',
      KAFKA_SASL_PASSWORD: 'hunter2-secret',
    });
    expect(cfg.kafka.ssl).toEqual({ caFile: '/etc/kafka/ca.pem', certFile: '/etc/kafka/client.pem', keyFile: '/etc/kafka/client.key', servername: 'kafka.example.com' });
    expect(cfg.kafka.sasl?.mechanism).toBe('scram-sha-512');
    expect(cfg.kafka.sasl?.username).toBe('kaudit-ingest');
    expect(cfg.kafka.sasl?.password.reveal()).toBe('hunter2-secret');
    expect(JSON.stringify(cfg)).not.toContain('hunter2-secret');
    expect(inspect(cfg, { depth: 10 })).not.toContain('hunter2-secret');
  });

  it('TLS on with no files trusts the system CAs (a managed Kafka with a public certificate)', () => {
    expect(load({ KAFKA_BROKERS: 'a:9093', KAFKA_SSL: 'yes' }).kafka.ssl).toEqual({});
  });

  it('lists every inconsistent setting at once, naming the variable to fix', () => {
    const found = problems({ KAFKA_SSL_CA_FILE: '/ca.pem', KAFKA_SSL_CERT_FILE: '/c.pem', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' });
    expect(found.map((p) => p.env).sort()).toEqual(['KAFKA_BROKERS', 'KAFKA_SASL_MECHANISM', 'KAFKA_SSL', 'KAFKA_SSL_KEY_FILE']);
    expect(found.find((p) => p.env === 'KAFKA_SSL')?.message).toContain('caFile');
  });

  it('a mechanism needs a username and a password, and must be one kafkajs speaks', () => {
    expect(problems({ KAFKA_BROKERS: 'a:1', KAFKA_SASL_MECHANISM: 'plain' }).map((p) => p.env).sort()).toEqual(['KAFKA_SASL_PASSWORD', 'KAFKA_SASL_USERNAME']);
    expect(problems({ KAFKA_BROKERS: 'a:1', KAFKA_SASL_MECHANISM: 'gssapi', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' }).map((p) => p.env)).toEqual(['KAFKA_SASL_MECHANISM']);
  });

  it('reads the producers\' compression codec, and refuses one kaudit cannot write naming the choices', () => {
    // zstd unless told otherwise: a tenth of the broker's bytes at no measurable producer CPU (docs/operating.md).
    expect(load({ KAFKA_BROKERS: 'a:1' }).kafka.compression).toBe('zstd');
    expect(load({ KAFKA_BROKERS: 'a:1', KAFKA_COMPRESSION: ' LZ4 ' }).kafka.compression).toBe('lz4');
    expect(load({ KAFKA_BROKERS: 'a:1', KAFKA_COMPRESSION: 'none' }).kafka.compression).toBe('none');
    const found = problems({ KAFKA_BROKERS: 'a:1', KAFKA_COMPRESSION: 'snappy' });
    expect(found.map((p) => p.env)).toEqual(['KAFKA_COMPRESSION']);
    expect(found[0]?.message).toMatch(/none.*gzip.*lz4.*zstd/);
  });

  it('loadKafkaCompression reads the codec alone, with the same default and the same refusal (kaudit import)', () => {
    expect(loadKafkaCompression({})).toBe('zstd');
    expect(loadKafkaCompression({ KAFKA_COMPRESSION: 'gzip' })).toBe('gzip');
    expect(() => loadKafkaCompression({ KAFKA_COMPRESSION: 'snappy' })).toThrow(/KAFKA_COMPRESSION/);
  });

  it('loadKafkaSecurity reads only the security part (the CLI takes brokers from the stack)', () => {
    const s = loadKafkaSecurity({ KAFKA_SSL: '1', KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' });
    expect(s.ssl).toEqual({});
    expect(s.sasl?.mechanism).toBe('plain');
    expect(loadKafkaSecurity({})).toEqual({ ssl: undefined, sasl: undefined });
  });
});
