/**
 * Guarantee (DESIGN.md, least privilege): every Kafka client of kaudit — the adapter the services use,
 * `kaudit setup`, `kaudit import` and a service started from its environment — talks to a broker that
 * requires TLS and SASL, and a wrong password, an untrusted certificate or a wrong server name fails
 * at once with KAFKA_AUTH_FAILED instead of being retried as if the broker were merely down.
 *
 * One private broker for this file (Kafka 3.9 from the stack's jars) with a SASL_SSL listener
 * (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) and an mTLS listener; certificates made by openssl for this run.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng, scenarioEvents, toEventList } from '@kaudit/audit-generator';
import { createClickHouse } from '@kaudit/clickhouse';
import { Secret } from '@kaudit/config';
import { isKauditError, type KauditError } from '@kaudit/errors';
import { createKafkaClient, DEFAULT_TOPIC_SPECS, TOPICS, type KafkaClient, type KafkaSaslMechanism, type KafkaSecurityOptions } from '@kaudit/kafka';
import { freePort } from '@kaudit/stack';
import { consumeAll, consumeRawEvents, ServiceProcess, silentLogger, startSecuredKafka, testEndpoints, uniqueName, type SecuredKafka } from '@kaudit/testkit';
import { buildProgram } from 'kaudit';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const logger = silentLogger();
const MECHANISMS: KafkaSaslMechanism[] = ['plain', 'scram-sha-256', 'scram-sha-512'];

let kafka: SecuredKafka;
const work = mkdtempSync(join(tmpdir(), 'kaudit-secured-kafka-'));

beforeAll(async () => {
  kafka = await startSecuredKafka(logger);
}, 240_000);

afterAll(async () => {
  await kafka?.stop();
  rmSync(work, { recursive: true, force: true });
}, 60_000);

function client(brokers: string, security: KafkaSecurityOptions): KafkaClient {
  return createKafkaClient({ brokers: [brokers], clientId: uniqueName('secured'), logger, ...security });
}

function saslSsl(mechanism: KafkaSaslMechanism, overrides: { password?: string; caFile?: string; servername?: string } = {}): KafkaSecurityOptions {
  return {
    ssl: { caFile: overrides.caFile ?? kafka.certs.caFile, ...(overrides.servername ? { servername: overrides.servername } : {}) },
    sasl: { mechanism, username: kafka.user.username, password: new Secret(overrides.password ?? kafka.user.password) },
  };
}

/** Creates a topic, produces three records and reads them back, all through our adapter. */
async function roundTrip(c: KafkaClient): Promise<string[]> {
  const topic = uniqueName('secured');
  const admin = c.admin();
  await admin.start();
  try {
    await admin.ensureTopics([{ topic, partitions: 1 }]);
  } finally {
    await admin.stop();
  }
  const producer = c.producer();
  await producer.start();
  try {
    await producer.send(topic, ['a', 'b', 'c'].map((v) => ({ key: 'k', value: v })));
  } finally {
    await producer.stop();
  }
  const records = await consumeAll(c, topic, 3, 60_000);
  return records.map((r) => r.value?.toString() ?? '');
}

/**
 * The error a consumer's start() ends with. Treated as transient, a refusal is retried (kafkajs: about
 * 15 connection attempts, ~10 s) and ends as a retryable KAFKA_UNAVAILABLE, exactly like a broker that
 * is down; the assertions below want the final, non-retryable KAFKA_AUTH_FAILED instead.
 */
async function refusal(c: KafkaClient): Promise<{ err: KauditError }> {
  const consumer = c.consumer({ groupId: uniqueName('refused'), topics: [uniqueName('never')] });
  try {
    await consumer.start(async () => undefined);
  } catch (err) {
    if (isKauditError(err)) return { err };
    throw err;
  } finally {
    await consumer.stop().catch(() => undefined);
  }
  throw new Error('the consumer connected although it must have been refused');
}

describe('Kafka over TLS and SASL', () => {
  it.each(MECHANISMS)('produces and consumes with SASL %s over TLS', async (mechanism) => {
    expect(await roundTrip(client(kafka.saslSslBrokers, saslSsl(mechanism)))).toEqual(['a', 'b', 'c']);
  });

  it('authenticates with a client certificate alone on a listener that requires one', async () => {
    const mtls = { ssl: { caFile: kafka.certs.caFile, certFile: kafka.certs.clientCertFile, keyFile: kafka.certs.clientKeyFile } };
    expect(await roundTrip(client(kafka.mtlsBrokers, mtls))).toEqual(['a', 'b', 'c']);
    // The same listener without the certificate: refused, so the certificate is what let us in. (The
    // broker says so only after the handshake, so kafkajs retries first; the error is still final.)
    const { err } = await refusal(client(kafka.mtlsBrokers, { ssl: { caFile: kafka.certs.caFile } }));
    expect(err.code).toBe('KAFKA_AUTH_FAILED');
    expect(err.retryable).toBe(false);
  }, 90_000);

  it.each(['plain', 'scram-sha-256'] as const)('a wrong %s password fails at once with KAFKA_AUTH_FAILED, not retried', async (mechanism) => {
    const { err } = await refusal(client(kafka.saslSslBrokers, saslSsl(mechanism, { password: 'not-the-password' })));
    expect(err.code).toBe('KAFKA_AUTH_FAILED');
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/authentication/i);
    expect(err.message).not.toContain('not-the-password');
  }, 60_000);

  it('a broker certificate from an untrusted CA fails at once with KAFKA_AUTH_FAILED, not retried', async () => {
    const { err } = await refusal(client(kafka.saslSslBrokers, saslSsl('scram-sha-512', { caFile: kafka.certs.otherCaFile })));
    expect(err.code).toBe('KAFKA_AUTH_FAILED');
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/certificate/i);
  }, 60_000);

  it('a server name the certificate does not carry fails with KAFKA_AUTH_FAILED; one it carries works', async () => {
    const { err } = await refusal(client(kafka.saslSslBrokers, saslSsl('scram-sha-256', { servername: 'kafka.example.com' })));
    expect(err.code).toBe('KAFKA_AUTH_FAILED');
    expect(err.message).toContain('kafka.example.com');
    expect(await roundTrip(client(kafka.saslSslBrokers, saslSsl('scram-sha-256', { servername: 'localhost' })))).toEqual(['a', 'b', 'c']);
  }, 90_000);

  it('kaudit setup and kaudit import work against it, configured only by the environment', async () => {
    const database = uniqueName('secured_setup');
    const env = {
      KAFKA_BROKERS: kafka.saslSslBrokers,
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: kafka.certs.caFile,
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: kafka.user.username,
      KAFKA_SASL_PASSWORD: kafka.user.password,
      CLICKHOUSE_URL: testEndpoints().clickhouseUrl,
      CLICKHOUSE_DATABASE: database,
    };
    const out: string[] = [];
    const run = (args: string[]) =>
      buildProgram({ env, paths: { root: REPO, state: join(work, 'state') }, logger, out: (t) => out.push(t), setExitCode: (c) => out.push(`exit ${c}`) }).parseAsync(['node', 'kaudit', ...args]);
    try {
      await run(['setup']);
      const admin = client(kafka.saslSslBrokers, saslSsl('plain')).admin();
      await admin.start();
      try {
        expect(await admin.listTopics()).toEqual(expect.arrayContaining(DEFAULT_TOPIC_SPECS.map((s) => s.topic)));
        // Events, not records: a raw.v2 record holds many.
        const reader = client(kafka.saslSslBrokers, saslSsl('plain'));
        const before = (await consumeRawEvents(reader, TOPICS.raw, 60_000)).length;
        const events = scenarioEvents(createRng(7), 'delete-nginx', Date.now() - 60_000);
        const file = join(work, 'import.jsonl');
        writeFileSync(file, `${events.map((e) => JSON.stringify(e)).join('\n')}\n`);
        await run(['import', file, '--cluster', 'secured-1', '--no-progress']);
        expect(out.join('\n')).toContain(`${events.length} events accepted`);
        const after = (await consumeRawEvents(reader, TOPICS.raw, 60_000)).length;
        expect(after - before).toBe(events.length);
      } finally {
        await admin.stop();
      }
    } finally {
      const ch = createClickHouse({ url: testEndpoints().clickhouseUrl });
      await ch.command({ query: `DROP DATABASE IF EXISTS ${database}` }).catch(() => undefined);
      await ch.close();
    }
  });

  it('the ingest service started from its environment answers 200 and its events are on the raw topic', async () => {
    const token = randomBytes(18).toString('base64url');
    const clusters = join(work, 'clusters.yaml');
    writeFileSync(clusters, `clusters:\n  secured-1:\n    tokens:\n      - sha256: ${createHash('sha256').update(token).digest('hex')}\n`);
    const raw = uniqueName('raw');
    const port = await freePort();
    const ingest = new ServiceProcess({
      service: 'ingest',
      httpPort: port,
      logDir: join(work, 'logs'),
      env: {
        KAFKA_BROKERS: kafka.saslSslBrokers,
        KAFKA_SSL: 'true',
        KAFKA_SSL_CA_FILE: kafka.certs.caFile,
        KAFKA_SASL_MECHANISM: 'scram-sha-256',
        KAFKA_SASL_USERNAME: kafka.user.username,
        KAFKA_SASL_PASSWORD: kafka.user.password,
        INGEST_RAW_TOPIC: raw,
        INGEST_DLQ_TOPIC: uniqueName('dlq'),
        CLUSTERS_FILE: clusters,
      },
    });
    try {
      await ingest.start(120_000);
      const events = scenarioEvents(createRng(11), 'cordon-node', Date.now() - 60_000);
      const res = await fetch(`http://127.0.0.1:${port}/v1/clusters/secured-1/audit`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(toEventList(events)),
      });
      expect(res.status).toBe(200);
      const admin = client(kafka.saslSslBrokers, saslSsl('scram-sha-512')).admin();
      await admin.start();
      try {
        expect((await admin.fetchTopicOffsets(raw)).reduce((n, p) => n + Number(p.high), 0)).toBe(events.length);
      } finally {
        await admin.stop();
      }
    } finally {
      await ingest.stop();
    }
  }, 180_000);
});
