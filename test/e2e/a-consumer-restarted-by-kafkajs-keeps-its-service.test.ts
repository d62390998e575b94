/**
 * The other side of a-consumer-stopped-for-good-restarts-its-service.test.ts: a crash kafkajs recovers from by
 * restarting its consumer does not end the service. It is logged (warn) and counted, and the service goes on
 * consuming.
 *
 * Provoked for real: a private broker behind a TCP proxy (the broker advertises the proxy, so every connection goes
 * through it) that cuts the connection carrying the service's first JoinGroup. kafkajs' consumer fails its first
 * join with a connection error — retriable, so its CRASH event says restart: true — and rejoins a moment later.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng, scenarioEvents } from '@kaudit/audit-generator';
import { createKafkaClient, RAW_HEADERS, type KafkaClient } from '@kaudit/kafka';
import { freePort, startKafka, stopKafka } from '@kaudit/stack';
import { consumeEnrichedEvents, ServiceProcess, silentLogger, startKafkaFaultProxy, uniqueName, type KafkaFaultProxy } from '@kaudit/testkit';

const ROOT = fileURLToPath(new URL('../../.kaudit/', import.meta.url));
const JOIN_GROUP = 11; // Kafka's API key of JoinGroup
const logger = silentLogger();
const engine = { dir: join(ROOT, 'stack', uniqueName('fault-kafka')), cacheDir: join(ROOT, 'cache') };
const work = join(ROOT, 'test-logs', uniqueName('consumer-restarted'));
let proxy: KafkaFaultProxy;
let kafka: KafkaClient;
let brokers: string;

beforeAll(async () => {
  const [port, proxyPort, controllerPort] = [await freePort(), await freePort(), await freePort()];
  proxy = await startKafkaFaultProxy({ host: '127.0.0.1', port }, proxyPort);
  await startKafka({ ...engine, port, advertisedPort: proxyPort, controllerPort, heapMb: 256, tethered: true, logger });
  brokers = `127.0.0.1:${proxy.port}`;
  kafka = createKafkaClient({ brokers: [brokers], clientId: 'consumer-restarted', logger });
}, 240_000);

afterAll(async () => {
  await stopKafka(engine);
  await proxy?.close();
  rmSync(engine.dir, { recursive: true, force: true });
}, 60_000);

describe('a consumer crash that kafkajs restarts', () => {
  it('is logged and counted, and enrich goes on consuming: up, ready, and enriching', async () => {
    const topics = { raw: uniqueName('raw'), enriched: uniqueName('enriched'), dlq: uniqueName('dlq') };
    const admin = kafka.admin();
    await admin.start();
    await admin.ensureTopics(Object.values(topics).map((topic) => ({ topic, partitions: 2 })));
    await admin.stop();
    const joinCut = proxy.dropNext(JOIN_GROUP);
    const port = await freePort();
    const service = new ServiceProcess({
      service: 'enrich',
      httpPort: port,
      logDir: join(work, 'enrich'),
      env: { KAFKA_BROKERS: brokers, ENRICH_GROUP_ID: uniqueName('enrich'), ENRICH_INPUT_TOPIC: topics.raw, ENRICH_OUTPUT_TOPIC: topics.enriched, ENRICH_DLQ_TOPIC: topics.dlq },
    });
    try {
      await service.start(120_000);
      await joinCut;
      const [event] = scenarioEvents(createRng(3), 'cordon-node', Date.now() - 60_000);
      const producer = kafka.producer();
      await producer.start();
      const headers = { [RAW_HEADERS.cluster]: 'fault-1', [RAW_HEADERS.receivedAt]: new Date().toISOString(), [RAW_HEADERS.source]: 'webhook', [RAW_HEADERS.instance]: 'test' };
      await producer.send(topics.raw, [{ key: 'fault-1', value: JSON.stringify(event), headers }]);
      await producer.stop();
      // Consumed after the restart: the restarted consumer is the one doing the work.
      expect(await consumeEnrichedEvents(kafka, topics.enriched, 1, 90_000)).toHaveLength(1);

      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toMatch(/kaudit_events_total\{component="kafka",event="consumer_crashed"\} 1\n/);
      expect(metrics).not.toContain('consumer_crashed_for_good');
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
      const crashes = readFileSync(service.logFile, 'utf8')
        .split('\n')
        .filter((l) => l.includes('"consumer_crashed'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(crashes).toEqual([expect.objectContaining({ event: 'consumer_crashed', level: 40, code: 'KAFKA_UNAVAILABLE' })]);
    } finally {
      await service.stop();
    }
  }, 300_000);
});
