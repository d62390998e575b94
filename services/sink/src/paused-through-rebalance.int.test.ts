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
const logger = silentLogger('sink-paused-rebalance-test');
const codec = new AuditRecordCodec();

/**
 * The sink pauses its consumer while ClickHouse is down, so it does not fetch a backlog it cannot store. A
 * rebalance in the outage (another sink instance joining or leaving, a session that expired while an insert
 * hung) fences the batch being retried: it is left uncommitted for the partition's next owner. The pause must
 * not outlive it. Found by the whole-pipeline e2e test: after the faults its sink sat paused with ~26,000
 * records behind and nothing in hand to resume it, for good.
 */
describe('a rebalance while ClickHouse is down', () => {
  it('does not leave the consumer paused: the backlog is stored once ClickHouse is back', async () => {
    const ep = testEndpoints();
    // A private ClickHouse (stopping the shared one would break every other test); the shared Kafka.
    const name = uniqueName('sink-paused-rebalance');
    const stack = new LocalStack({
      root: ROOT, name, logger, externalKafka: ep.kafkaBrokers,
      kafkaPort: await freePort(), kafkaControllerPort: await freePort(), clickhouseHttpPort: await freePort(),
    });
    const kafka = createKafkaClient({ brokers: [ep.kafkaBrokers], clientId: 'sink-paused-rebalance-test', logger });
    const producer = kafka.producer();
    const { clickhouseUrl } = await stack.up();
    const ch = createClickHouse({ url: clickhouseUrl, requestTimeoutMs: 5000 });
    const sinks: Awaited<ReturnType<typeof startSinkUnderTest>>[] = [];
    try {
      await producer.start();
      const db = 'kaudit';
      await runMigrations({ client: ch, dir: MIGRATIONS, database: db, logger, vars: { retention_days: 3650 } });
      const topics = { enriched: uniqueName('enriched'), alerts: uniqueName('alerts'), dlq: uniqueName('dlq') };
      const admin = kafka.admin();
      await admin.start();
      await admin.ensureTopics([{ topic: topics.enriched, partitions: 3 }, { topic: topics.alerts, partitions: 1 }, { topic: topics.dlq, partitions: 1 }]);
      await admin.stop();
      const config = sinkTestConfig({
        database: db,
        topics,
        group: uniqueName('sink'),
        env: { CLICKHOUSE_URL: clickhouseUrl, CLICKHOUSE_REQUEST_TIMEOUT_MS: '5000', SINK_RETRY_MAX_MS: '1000', SINK_MAX_BYTES_PER_PARTITION: '32768', SINK_SESSION_TIMEOUT_MS: '10000' },
      });
      const produce = async (from: number, n: number) => {
        const records = Array.from({ length: n }, (_, j) => {
          const r = sampleAuditRecord({ auditID: `paused-${from + j}` });
          return { key: r.auditID, value: codec.encode(r), headers: { [SCHEMA_FINGERPRINT_HEADER]: codec.fingerprint } };
        });
        for (let i = 0; i < records.length; i += 500) await producer.send(topics.enriched, records.slice(i, i + 500));
      };
      const count = async () => {
        const [row] = await (await ch.query({ query: `SELECT toString(count()) AS n, toString(uniqExact(audit_id)) AS u FROM ${db}.audit_events`, format: 'JSONEachRow' })).json<{ n: string; u: string }>();
        return row;
      };
      const eventCount = async (registry: Registry, event: string) => {
        const metric = await registry.getSingleMetric('kaudit_events_total')?.get();
        return metric?.values.filter((v) => v.labels.event === event).reduce((s, v) => s + v.value, 0) ?? 0;
      };

      const first = await startSinkUnderTest(config, { logger, kafka, clickhouse: ch, registry: new Registry() });
      sinks.push(first);
      await produce(0, 1000);
      while ((await count())?.n !== '1000') await sleep(200);

      await stack.stopEngine('clickhouse');
      await produce(1000, 3000);
      while ((await eventCount(first.registry, 'consumer_paused')) < 1) await sleep(200);

      // A second instance joins during the outage (a scale-out, a rollout's new pod) and leaves again: two
      // rebalances, each fencing the batches the first instance was retrying.
      const second = await startSinkUnderTest(config, { logger, kafka, clickhouse: ch, registry: new Registry() });
      sinks.push(second);
      await second.service.waitForAssignment(60_000);
      await sleep(3000);
      await second.lifecycle.stop();
      sinks.pop();
      await sleep(3000);

      await stack.up();
      const deadline = Date.now() + 90_000;
      while ((await count().catch(() => undefined))?.n !== '4000' && Date.now() < deadline) await sleep(300);
      expect(await count()).toEqual({ n: '4000', u: '4000' });
    } finally {
      for (const s of sinks) await s.lifecycle.stop().catch(() => undefined);
      await producer.stop();
      await ch.close();
      await stack.down();
      rmSync(join(ROOT, 'stack', name), { recursive: true, force: true });
    }
  }, 240_000);
});
