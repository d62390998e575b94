import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient, RAW_HEADERS, type KafkaAdmin, type KafkaClient } from '@kaudit/kafka';
import { Lifecycle } from '@kaudit/runtime';
import { silentLogger, testEndpoints, uniqueName, consumeEnrichedEvents } from '@kaudit/testkit';
import { buildEnrich } from './build-enrich.js';
import { loadEnrichConfig } from './config.js';
import { fixtureNames, loadFixture } from './fixtures/fixtures.js';

const logger = silentLogger('enrich-fetch-bound');
let client: KafkaClient;
let admin: KafkaAdmin;

beforeAll(async () => {
  client = createKafkaClient({ brokers: [testEndpoints().kafkaBrokers], clientId: 'enrich-fetch-bound-test', logger });
  admin = client.admin();
  await admin.start();
});
afterAll(async () => {
  await admin.stop();
});

// Issue 16: what enrich holds is bounded by what one fetch brings in, so the fetch byte limits must reach the broker.
describe('enrich memory is bounded by its fetch byte limits', () => {
  it('fetches at most ENRICH_FETCH_MAX_BYTES_PER_PARTITION of a partition at a time, and still enriches every record', async () => {
    const input = uniqueName('raw');
    const output = uniqueName('enriched');
    const dlq = uniqueName('dlq');
    await admin.ensureTopics([input, output, dlq].map((topic) => ({ topic, partitions: 1 })));
    // 300 events of ~3 KiB (uncompressed): ~900 KiB, one fetch at kafkajs' default 1 MiB per partition.
    const event = loadFixture(fixtureNames()[0] as string) as Record<string, unknown>;
    const total = 300;
    const records = Array.from({ length: total }, (_, i) => ({
      key: 'c1',
      value: JSON.stringify({ ...event, auditID: `fetch-bound-${i}`, annotations: { pad: 'x'.repeat(2048) } }),
      headers: { [RAW_HEADERS.cluster]: 'c1', [RAW_HEADERS.receivedAt]: new Date().toISOString(), [RAW_HEADERS.source]: 'webhook', [RAW_HEADERS.instance]: 'test' },
    }));
    const producer = client.producer();
    await producer.start();
    for (let i = 0; i < total; i += 10) await producer.send(input, records.slice(i, i + 10));
    await producer.stop();

    const limit = 16 * 1024;
    const config = loadEnrichConfig({
      KAFKA_BROKERS: testEndpoints().kafkaBrokers,
      ENRICH_GROUP_ID: uniqueName('enrich'),
      ENRICH_INPUT_TOPIC: input,
      ENRICH_OUTPUT_TOPIC: output,
      ENRICH_DLQ_TOPIC: dlq,
      ENRICH_FETCH_MAX_BYTES_PER_PARTITION: String(limit),
      ENRICH_FETCH_MAX_BYTES: String(4 * limit),
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
      KAUDIT_RETENTION_DAYS: '3650', // the fixtures carry fixed dates
    });
    const registry = new Registry();
    const service = buildEnrich(config, { logger, registry, kafka: client });
    const lifecycle = new Lifecycle({ logger, shutdownTimeoutMs: config.shutdownTimeoutMs }).add(...service.components);
    // The lag gauge is set after each handled batch: records still behind the partition's end. Within the
    // limit a batch holds ~5 of these records, so the partition is worked off in many steps; one batch of
    // all 300 (the limit not passed on) would leave nothing behind after the first.
    let maxLagSeen = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const lag = (await registry.getSingleMetric('kaudit_enrich_lag_records')?.get())?.values ?? [];
        for (const v of lag) maxLagSeen = Math.max(maxLagSeen, v.value);
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    await lifecycle.start();
    try {
      const enriched = await consumeEnrichedEvents(client, output, total, 60_000);
      expect(enriched.length).toBe(total);
    } finally {
      sampling = false;
      await sampler;
      await lifecycle.stop();
    }
    expect(maxLagSeen).toBeGreaterThan(total / 2);
  }, 120_000);
});
