import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError } from './config-error.js';
import { csvList, booleanish } from './env.js';
import { loadConfig } from './load-config.js';
import { secret } from './secret.js';

const schema = z.object({
  kafka: z.object({ brokers: csvList().pipe(z.array(z.string()).min(1)), clientId: z.string().default('kaudit') }),
  http: z.object({ port: z.coerce.number().int().min(1).max(65535), tls: booleanish().default(false) }),
  token: secret(),
});
const envMap = { 'kafka.brokers': 'KAFKA_BROKERS', 'http.port': 'PORT', 'http.tls': 'TLS', token: 'TOKEN' };

describe('loadConfig', () => {
  it('lists every problem at once, with the env var to set', () => {
    let error: unknown;
    try {
      loadConfig(schema, { env: { PORT: '99999', TLS: 'maybe' }, envMap, name: 'ingest config' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems.map((p) => p.path).sort()).toEqual(['http.port', 'http.tls', 'kafka.brokers', 'token']);
    expect(problems.find((p) => p.path === 'http.port')?.env).toBe('PORT');
    expect((error as ConfigError).message).toContain('4 problems');
    expect((error as ConfigError).code).toBe('CONFIG_INVALID');
  });

  it('merges defaults < file < env, freezes, and redacts secrets', () => {
    const cfg = loadConfig(schema, {
      env: { KAFKA_BROKERS: 'a:1, b:2', TOKEN: 's3cret', TLS: 'yes' },
      envMap,
      file: { http: { port: 8080, tls: false }, kafka: { brokers: 'file:1' } },
    });
    expect(cfg.kafka.brokers).toEqual(['a:1', 'b:2']);
    expect(cfg.kafka.clientId).toBe('kaudit');
    expect(cfg.http).toEqual({ port: 8080, tls: true });
    expect(cfg.token.reveal()).toBe('s3cret');
    expect(JSON.stringify(cfg)).not.toContain('s3cret');
    expect(inspect(cfg)).not.toContain('s3cret');
    expect(Object.isFrozen(cfg.http)).toBe(true);
  });
});
