import { createServer, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuditRecordCodec, SCHEMA_FINGERPRINT_HEADER } from '@kaudit/audit-schema';
import { createKafkaClient, DLQ_HEADERS, RAW_HEADERS, type KafkaAdmin, type KafkaClient, type OutgoingRecord } from '@kaudit/kafka';
import { Lifecycle } from '@kaudit/runtime';
import { consumeAll, silentLogger, testEndpoints, uniqueName, consumeEnrichedEvents } from '@kaudit/testkit';
import { loadEnrichConfig } from './config.js';
import { buildEnrich } from './build-enrich.js';
import { FIXTURE_SECRETS, fixtureNames, loadFixture } from './fixtures/fixtures.js';

const logger = silentLogger('enrich-int');
let client: KafkaClient;
let admin: KafkaAdmin;
let workDir: string;

beforeAll(async () => {
  client = createKafkaClient({ brokers: [testEndpoints().kafkaBrokers], clientId: 'enrich-int-test', logger });
  admin = client.admin();
  await admin.start();
  workDir = mkdtempSync(join(tmpdir(), 'kaudit-enrich-int-'));
});
afterAll(async () => {
  await admin.stop();
  rmSync(workDir, { recursive: true, force: true });
});

function rawOut(value: Buffer | string, cluster: string): OutgoingRecord {
  return {
    key: cluster,
    value,
    headers: { [RAW_HEADERS.cluster]: cluster, [RAW_HEADERS.receivedAt]: new Date().toISOString(), [RAW_HEADERS.source]: 'webhook', [RAW_HEADERS.instance]: 'test' },
  };
}

describe('enrich service on the real broker', () => {
  // ENRICH_THREADS=2: the same outcomes with records enriched on worker threads (those the HTTP directory is asked
  // about handed back to the event loop).
  it.each([
    ['on the event loop', '0'],
    ['on enrich threads', '2'],
  ])('raw topic → enriched topic %s: every event enriched, keyed by actor, secrets absent from the bytes, bad records dead-lettered, offsets committed, a hanging HTTP directory never stalls it', async (_where, threads) => {
    const input = uniqueName('raw');
    const output = uniqueName('enriched');
    const dlq = uniqueName('dlq');
    const groupId = uniqueName('enrich');
    await admin.ensureTopics([input, output, dlq].map((topic) => ({ topic, partitions: 3 })));

    // A people directory that accepts connections and never answers.
    const hanging: ServerResponse[] = [];
    const slowDirectory = createServer((_req, res) => hanging.push(res));
    await new Promise<void>((resolve) => slowDirectory.listen(0, '127.0.0.1', resolve));
    const directoryPort = (slowDirectory.address() as AddressInfo).port;
    const directoryFile = join(workDir, 'directory.yaml');
    writeFileSync(directoryFile, 'identities:\n  - id: tke:100012347138\n    displayName: Wang Wei\n    team: infra\nnamespaces:\n  payments: payments-team\n');

    const config = loadEnrichConfig({
      KAFKA_BROKERS: testEndpoints().kafkaBrokers,
      ENRICH_GROUP_ID: groupId,
      ENRICH_INPUT_TOPIC: input,
      ENRICH_OUTPUT_TOPIC: output,
      ENRICH_DLQ_TOPIC: dlq,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
      ENRICH_DIRECTORY_FILE: directoryFile,
      ENRICH_HTTP_DIRECTORY_URL: `http://127.0.0.1:${directoryPort}/identities/{id}`,
      ENRICH_HTTP_DIRECTORY_TIMEOUT_MS: '200',
      KAUDIT_RETENTION_DAYS: '3650', // the fixtures carry fixed dates (November 2026)
      ENRICH_THREADS: threads,
    });
    const service = buildEnrich(config, { logger, registry: new Registry(), kafka: client });
    const lifecycle = new Lifecycle({ logger, shutdownTimeoutMs: config.shutdownTimeoutMs }).add(...service.components);

    const names = fixtureNames();
    const producer = client.producer();
    await producer.start();
    const good = names.map((n, i) => rawOut(JSON.stringify(loadFixture(n)), i % 2 === 0 ? 'prod-eu-1' : 'prod-us-2'));
    const bad = [rawOut('{"kind":"Event", truncated', 'prod-eu-1'), rawOut(JSON.stringify({ kind: 'Event', verb: 'get' }), 'prod-eu-1')];
    await producer.send(input, [...good, ...bad]);
    await producer.stop();

    await lifecycle.start();
    try {
      const enriched = await consumeEnrichedEvents(client, output, good.length, 60_000);
      const dead = await consumeAll(client, dlq, bad.length, 60_000);
      expect(enriched).toHaveLength(good.length);
      expect(dead).toHaveLength(bad.length);

      const codec = new AuditRecordCodec();
      const records = enriched.map((r) => ({ raw: r, record: codec.decode(r.value as Buffer, r.headers[SCHEMA_FINGERPRINT_HEADER]?.toString()) }));
      expect(records.map((r) => r.record.auditID).sort()).toEqual(names.map((n) => String(loadFixture(n).auditID)).sort());
      for (const { raw, record } of records) {
        expect(raw.key?.toString()).toBe(`${record.cluster}/${record.actor.id}`);
        expect(raw.headers[RAW_HEADERS.cluster]?.toString()).toBe(record.cluster);
        // The guarantee, on the bytes as stored in Kafka: key, value and headers.
        const bytes = Buffer.concat([raw.key ?? Buffer.alloc(0), raw.value ?? Buffer.alloc(0), ...Object.values(raw.headers)]);
        for (const secret of FIXTURE_SECRETS) expect(bytes.includes(secret), `${secret} leaked in ${record.auditID}`).toBe(false);
      }
      const tke = records.find((r) => r.record.provider === 'tke')?.record;
      expect(tke?.actor).toMatchObject({ displayName: 'Wang Wei', resolvedBy: 'directory-file' });
      const gke = records.find((r) => r.record.user.username === 'bob@example.com')?.record;
      expect(gke?.actor.resolvedBy).toBe('unresolved'); // the hanging HTTP directory did not hold it back

      const reasons = dead.map((d) => d.headers[DLQ_HEADERS.stage]?.toString()).sort();
      expect(reasons).toEqual(['parse-json', 'validate-event']);
      expect(dead.map((d) => d.value?.toString())).toContain('{"kind":"Event", truncated');
      expect(dead.every((d) => d.headers[DLQ_HEADERS.code]?.toString() === 'INPUT_INVALID')).toBe(true);

      // Offsets are committed (only after the produce was acknowledged) up to the end of the input.
      const high = await admin.fetchTopicOffsets(input);
      await vi.waitFor(
        async () => {
          const committed = await admin.fetchCommittedOffsets(groupId, input);
          for (const p of high) expect(committed.find((c) => c.partition === p.partition && (c.offset === p.high || p.high === '0'))).toBeDefined();
        },
        { timeout: 30_000, interval: 250 },
      );

      const base = `http://127.0.0.1:${service.health.port}`;
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(new RegExp(`kaudit_enrich_records_total\\{outcome="enriched"\\} ${good.length}`));
      expect(metrics).toMatch(/kaudit_enrich_records_total\{outcome="dead_lettered"\} 2/);
      expect(metrics).toMatch(/kaudit_enrich_operations_total\{operation="cordon"\} 2/);
      expect(metrics).toMatch(/kaudit_enrich_identities_total\{resolved_by="directory-file",remote="skipped"\} 1/);
    } finally {
      await lifecycle.stop();
      for (const res of hanging) res.destroy();
      slowDirectory.closeAllConnections();
      await new Promise<void>((resolve) => slowDirectory.close(() => resolve()));
      await admin.deleteTopics([input, output, dlq]).catch(() => undefined);
    }
  });
});
