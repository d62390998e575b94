import { describe, expect, it } from 'vitest';
import { ConfigError } from '@kaudit/config';
import { loadSinkConfig } from './config.js';

describe('sink config', () => {
  it('reads the env npm start passes and fills the defaults', () => {
    const c = loadSinkConfig({ KAFKA_BROKERS: 'a:9092, b:9092', CLICKHOUSE_URL: 'http://127.0.0.1:8123', HTTP_PORT: '9102', CLICKHOUSE_PASSWORD: 's3cret' });
    expect(c.kafka).toMatchObject({ brokers: ['a:9092', 'b:9092'], groupId: 'kaudit-sink', enrichedTopics: ['kaudit.audit.enriched.v2', 'kaudit.audit.enriched.v1'], alertsTopic: 'kaudit.alerts.v1', dlqTopic: 'kaudit.dlq.v1' });
    expect(c.clickhouse).toMatchObject({ url: 'http://127.0.0.1:8123', database: 'kaudit' });
    expect(c.http.port).toBe(9102);
    expect(JSON.stringify(c)).not.toContain('s3cret');
  });

  it('lists every problem at once, naming the env var', () => {
    let err: unknown;
    try {
      loadSinkConfig({ CLICKHOUSE_DATABASE: 'kaudit; DROP', HTTP_PORT: 'x' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as Error).message;
    for (const env of ['KAFKA_BROKERS', 'CLICKHOUSE_URL', 'CLICKHOUSE_DATABASE', 'HTTP_PORT']) expect(message).toContain(env);
  });

  it('reads the https connection: CA, client certificate and key (issue 13)', () => {
    const c = loadSinkConfig({
      KAFKA_BROKERS: 'a:9092',
      CLICKHOUSE_URL: 'https://ch.example:8443',
      CLICKHOUSE_USER: 'kaudit_sink',
      CLICKHOUSE_PASSWORD: 's3cret',
      CLICKHOUSE_CA_FILE: '/etc/kaudit/ch-ca.pem',
      CLICKHOUSE_CERT_FILE: '/etc/kaudit/ch-client.pem',
      CLICKHOUSE_KEY_FILE: '/etc/kaudit/ch-client.key',
    });
    expect(c.clickhouse).toMatchObject({ url: 'https://ch.example:8443', username: 'kaudit_sink', caFile: '/etc/kaudit/ch-ca.pem', certFile: '/etc/kaudit/ch-client.pem', keyFile: '/etc/kaudit/ch-client.key' });
    expect(c.clickhouse.password?.reveal()).toBe('s3cret');
    expect(JSON.stringify(c)).not.toContain('s3cret');
  });

  it('refuses a certificate without its key and TLS files with an http URL, naming the variables', () => {
    let err: unknown;
    try {
      loadSinkConfig({ KAFKA_BROKERS: 'a:9092', CLICKHOUSE_URL: 'http://ch:8123', CLICKHOUSE_CA_FILE: '/ca.pem', CLICKHOUSE_CERT_FILE: '/c.pem' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    for (const env of ['CLICKHOUSE_KEY_FILE', 'CLICKHOUSE_CA_FILE', 'CLICKHOUSE_CERT_FILE']) expect((err as Error).message).toContain(env);
  });

  it('reads the batching limits (issue 16), with defaults bounded by the freshness goal, and names a bad one', () => {
    const base = { KAFKA_BROKERS: 'a:9092', CLICKHOUSE_URL: 'http://127.0.0.1:8123' };
    expect(loadSinkConfig(base).batch).toEqual({ maxRows: 50_000, maxBytes: 16 * 1024 * 1024, maxWaitMs: 1000 });
    expect(loadSinkConfig(base).kafka.partitionsConcurrently).toBe(6);
    // What one fetch holds (stored bytes), which bounds the sink's memory (issue 16).
    expect(loadSinkConfig(base).kafka).toMatchObject({ maxBytesPerPartition: 1024 * 1024, fetchMaxBytes: 2 * 1024 * 1024 });
    expect(loadSinkConfig({ ...base, SINK_FETCH_MAX_BYTES: '65536' }).kafka.fetchMaxBytes).toBe(65_536);
    const c = loadSinkConfig({ ...base, SINK_BATCH_MAX_ROWS: '2000', SINK_BATCH_MAX_BYTES: '1048576', SINK_BATCH_MAX_WAIT_MS: '0' });
    expect(c.batch).toEqual({ maxRows: 2000, maxBytes: 1_048_576, maxWaitMs: 0 });
    let err: unknown;
    try {
      loadSinkConfig({ ...base, SINK_BATCH_MAX_ROWS: '0', SINK_BATCH_MAX_BYTES: 'lots', SINK_BATCH_MAX_WAIT_MS: '60000' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    for (const env of ['SINK_BATCH_MAX_ROWS', 'SINK_BATCH_MAX_BYTES', 'SINK_BATCH_MAX_WAIT_MS']) expect((err as Error).message).toContain(env);
  });
});
