import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { AuditRecordCodec, SCHEMA_FINGERPRINT_HEADER, sampleAuditRecord } from '@kaudit/audit-schema';
import { createClickHouse, runMigrations } from '@kaudit/clickhouse';
import { createKafkaClient } from '@kaudit/kafka';
import { freePort, LocalStack } from '@kaudit/stack';
import { silentLogger, testEndpoints, uniqueName } from '@kaudit/testkit';
import { startSinkUnderTest, sinkTestConfig } from './test-support/sink-under-test.js';

const ROOT = fileURLToPath(new URL('../../../.kaudit', import.meta.url));
const MIGRATIONS = fileURLToPath(new URL('../../../migrations/clickhouse/', import.meta.url));
const logger = silentLogger('sink-outage-test');
const codec = new AuditRecordCodec();

describe('ClickHouse stopped for a while, then restarted', () => {
  it('pauses the consumer, retries, and drains the backlog with exact counts', async () => {
    const ep = testEndpoints();
    // A private ClickHouse (stopping the shared one would break every other test); the shared Kafka.
    const name = uniqueName('sink-ch-outage');
    const stack = new LocalStack({
      root: ROOT, name, logger, externalKafka: ep.kafkaBrokers,
      kafkaPort: await freePort(), kafkaControllerPort: await freePort(), clickhouseHttpPort: await freePort(),
    });
    const kafka = createKafkaClient({ brokers: [ep.kafkaBrokers], clientId: 'sink-outage-test', logger });
    const producer = kafka.producer();
    const { clickhouseUrl } = await stack.up();
    const ch = createClickHouse({ url: clickhouseUrl, requestTimeoutMs: 5000 });
    let service: Awaited<ReturnType<typeof startSinkUnderTest>> | undefined;
    try {
      await producer.start();
      const db = 'kaudit';
      await runMigrations({ client: ch, dir: MIGRATIONS, database: db, logger, vars: { retention_days: 3650 } });
      const topics = { enriched: uniqueName('enriched'), alerts: uniqueName('alerts'), dlq: uniqueName('dlq') };
      const topic = topics.enriched;
      const admin = kafka.admin();
      await admin.start();
      await admin.ensureTopics([{ topic, partitions: 3 }, { topic: topics.alerts, partitions: 1 }, { topic: topics.dlq, partitions: 1 }]);
      await admin.stop();
      const registry = new Registry();
      const config = sinkTestConfig({
        database: db,
        topics,
        env: { CLICKHOUSE_URL: clickhouseUrl, CLICKHOUSE_REQUEST_TIMEOUT_MS: '5000', SINK_RETRY_MAX_MS: '1000', SINK_MAX_BYTES_PER_PARTITION: '32768' },
      });
      const produce = async (from: number, n: number) => {
        const records = Array.from({ length: n }, (_, j) => {
          const r = sampleAuditRecord({ auditID: `outage-${from + j}` });
          return { key: r.auditID, value: codec.encode(r), headers: { [SCHEMA_FINGERPRINT_HEADER]: codec.fingerprint } };
        });
        for (let i = 0; i < records.length; i += 500) await producer.send(topic, records.slice(i, i + 500));
      };
      const count = async () => {
        const [row] = await (await ch.query({ query: `SELECT toString(count()) AS n, toString(uniqExact(audit_id)) AS u FROM ${db}.audit_events`, format: 'JSONEachRow' })).json<{ n: string; u: string }>();
        return row;
      };
      const eventCount = async (event: string) => {
        const metric = await registry.getSingleMetric('kaudit_events_total')?.get();
        return metric?.values.filter((v) => v.labels.event === event).reduce((s, v) => s + v.value, 0) ?? 0;
      };

      service = await startSinkUnderTest(config, { logger, kafka, clickhouse: ch, registry });
      await produce(0, 1000);
      while ((await count())?.n !== '1000') await sleep(200);

      await stack.stopEngine('clickhouse');
      await produce(1000, 4000);
      // Down long enough that the sink has failed, paused and retried several times.
      while ((await eventCount('batch_failed_retrying')) < 3) await sleep(200);
      expect(await eventCount('consumer_paused')).toBeGreaterThanOrEqual(1);
      await sleep(2000);

      await stack.up();
      const deadline = Date.now() + 120_000;
      while ((await count().catch(() => undefined))?.n !== '5000' && Date.now() < deadline) await sleep(300);
      await sleep(2000);
      expect(await count()).toEqual({ n: '5000', u: '5000' });
      expect(await eventCount('consumer_resumed')).toBeGreaterThanOrEqual(1);
    } finally {
      await service?.lifecycle.stop();
      await producer.stop();
      await ch.close();
      await stack.down();
      rmSync(join(ROOT, 'stack', name), { recursive: true, force: true });
    }
  });
});
