import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditRecordCodec, SCHEMA_FINGERPRINT_HEADER, sampleAuditRecord } from '@kaudit/audit-schema';
import { createClickHouse, type ClickHouse } from '@kaudit/clickhouse';
import { isKauditError } from '@kaudit/errors';
import { createKafkaClient, type KafkaClient, type Producer } from '@kaudit/kafka';
import { freePort } from '@kaudit/stack';
import { makeTestCertificates, ServiceProcess, silentLogger, startTlsProxy, testEndpoints, uniqueName, type TestCertificates, type TlsProxy } from '@kaudit/testkit';
import { buildProgram } from '../build-program.js';
import { repoPaths } from '../repo-paths.js';
import { setupPipeline, setupTargetFromEnv } from './setup-command.js';

/**
 * Every component that talks to ClickHouse, over https with a private CA (issue 13): `kaudit setup`, the sink
 * (as a real process, configured only by its environment) and `kaudit ask`. The bundled engine cannot serve
 * HTTPS, so a real node:tls proxy terminates TLS in front of its HTTP port.
 */
const LOGS = fileURLToPath(new URL('../../../.kaudit/test-logs/', import.meta.url));
const logger = silentLogger('ch-https-test');
const codec = new AuditRecordCodec();
const database = uniqueName('https');
const certsDir = mkdtempSync(join(tmpdir(), 'kaudit-ch-https-'));
let certs: TestCertificates;
let proxy: TlsProxy;
let plain: ClickHouse;
let kafka: KafkaClient;
let producer: Producer;
let httpsUrl: string;

beforeAll(async () => {
  certs = makeTestCertificates(certsDir);
  const target = new URL(testEndpoints().clickhouseUrl);
  proxy = await startTlsProxy({ targetHost: target.hostname, targetPort: Number(target.port), certFile: certs.serverCertFile, keyFile: certs.serverKeyFile });
  httpsUrl = `https://127.0.0.1:${proxy.port}`;
  plain = createClickHouse({ url: testEndpoints().clickhouseUrl });
  kafka = createKafkaClient({ brokers: [testEndpoints().kafkaBrokers], clientId: 'ch-https-test', logger });
  producer = kafka.producer();
  await producer.start();
});
afterAll(async () => {
  await producer?.stop();
  await plain?.command({ query: `DROP DATABASE IF EXISTS ${database}` }).catch(() => undefined);
  await plain?.close();
  await proxy?.close();
  rmSync(certsDir, { recursive: true, force: true });
});

const deps = (env: Record<string, string>, out: string[] = []) => ({ env, paths: repoPaths(), logger, out: (t: string) => out.push(t), setExitCode: () => undefined });
const httpsEnv = (caFile: string) => ({ CLICKHOUSE_URL: httpsUrl, CLICKHOUSE_CA_FILE: caFile, CLICKHOUSE_DATABASE: database, CLICKHOUSE_USER: 'default' });

async function count(query: string): Promise<number> {
  const [row] = await (await plain.query({ query, format: 'JSONEachRow' })).json<{ n: string }>();
  return Number(row?.n ?? -1);
}

async function kaudit(env: Record<string, string>, ...args: string[]): Promise<string> {
  const out: string[] = [];
  const program = buildProgram(deps(env, out));
  program.exitOverride();
  await program.parseAsync(args, { from: 'user' });
  return out.join('\n');
}

describe('ClickHouse over https with CLICKHOUSE_CA_FILE', () => {
  it('kaudit setup migrates, the sink stores and kaudit ask answers, all over https', async () => {
    const target = { ...setupTargetFromEnv(deps(httpsEnv(certs.caFile)), { kafkaBrokers: testEndpoints().kafkaBrokers, clickhouseUrl: 'http://unused:1' }), roleUsers: undefined };
    expect(target.clickhouse).toMatchObject({ url: httpsUrl, caFile: certs.caFile });
    const result = await setupPipeline(target, logger);
    expect(result.applied.length).toBeGreaterThan(0);
    expect(await count(`SELECT count() AS n FROM system.tables WHERE database = '${database}' AND name = 'audit_events'`)).toBe(1);

    const topics = { enriched: uniqueName('enriched'), alerts: uniqueName('alerts'), dlq: uniqueName('dlq') };
    const admin = kafka.admin();
    await admin.start();
    await admin.ensureTopics([{ topic: topics.enriched, partitions: 1 }, { topic: topics.alerts, partitions: 1 }, { topic: topics.dlq, partitions: 1 }]);
    await admin.stop();
    const deletes = Array.from({ length: 3 }, (_, i) =>
      sampleAuditRecord({ auditID: `https-${i}`, verb: 'delete', operation: 'delete', requestReceivedUs: Date.parse('2026-03-10T09:30:00Z') * 1000 + i * 1000,
        objectRef: { apiGroup: 'apps', apiVersion: 'v1', resource: 'deployments', subresource: null, namespace: 'shop', name: `web-${i}`, uid: null } }));
    await producer.send(topics.enriched, deletes.map((r) => ({ key: r.auditID, value: codec.encode(r), headers: { [SCHEMA_FINGERPRINT_HEADER]: codec.fingerprint } })));
    const sink = new ServiceProcess({
      service: 'sink',
      httpPort: await freePort(),
      logDir: LOGS,
      env: { KAFKA_BROKERS: testEndpoints().kafkaBrokers, ...httpsEnv(certs.caFile), SINK_GROUP_ID: uniqueName('sink'), SINK_ENRICHED_TOPIC: topics.enriched, SINK_ALERTS_TOPIC: topics.alerts, SINK_DLQ_TOPIC: topics.dlq },
    });
    try {
      await sink.start();
      const deadline = Date.now() + 60_000;
      while ((await count(`SELECT count() AS n FROM ${database}.audit_events`)) < 3 && Date.now() < deadline) await sleep(200);
    } finally {
      await sink.stop();
    }
    expect(await count(`SELECT count() AS n FROM ${database}.audit_events`)).toBe(3);

    const rows = JSON.parse(await kaudit(httpsEnv(certs.caFile), 'ask', 'who-deleted', 'deployment/web-1', '--since', '2026-03-10T09:00:00Z', '--until', '2026-03-10T10:00:00Z', '--json')) as Record<string, unknown>[];
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ who: 'Alice Example', namespace: 'shop' });
  });

  it('fails fast and is not retried when the server is signed by another CA: setup, ask and the sink', async () => {
    const wrong = httpsEnv(certs.otherCaFile);
    const setupErr = await setupPipeline({ ...setupTargetFromEnv(deps(wrong), { kafkaBrokers: testEndpoints().kafkaBrokers, clickhouseUrl: 'http://unused:1' }), roleUsers: undefined }, logger).catch((e: unknown) => e);
    expect(isKauditError(setupErr, 'CLICKHOUSE_TLS_FAILED'), String(setupErr)).toBe(true);
    expect((setupErr as { retryable: boolean }).retryable).toBe(false);

    const askErr = await kaudit(wrong, 'ask', 'who-deleted', 'deployment/web-1', '--json').catch((e: unknown) => e);
    expect(isKauditError(askErr, 'CLICKHOUSE_TLS_FAILED'), String(askErr)).toBe(true);

    // The sink refuses to start (a certificate does not fix itself by waiting) instead of retrying forever.
    const sink = new ServiceProcess({
      service: 'sink',
      httpPort: await freePort(),
      logDir: LOGS,
      env: { KAFKA_BROKERS: testEndpoints().kafkaBrokers, ...wrong, SINK_GROUP_ID: uniqueName('sink') },
    });
    const startErr = await sink.start(60_000).catch((e: unknown) => e);
    await sink.stop();
    expect(String(startErr)).toMatch(/exited with [1-9]/);
    expect(readFileSync(sink.logFile, 'utf8')).toContain('CLICKHOUSE_TLS_FAILED');
  });
});
