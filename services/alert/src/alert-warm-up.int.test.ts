import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { alertRecordSchema, sampleAuditRecord } from '@kaudit/audit-schema';
import { createKafkaClient } from '@kaudit/kafka';
import { freePort } from '@kaudit/stack';
import { ServiceProcess, consumeAll, silentLogger, testEndpoints, uniqueName } from '@kaudit/testkit';
import { produceEnriched } from './test-support/enriched-producer.js';

/**
 * Issue 15 §1: the first events after a start were evaluated cold (3-4x the CPU per event), which
 * on a busy host became a backlog and late pages. The service now runs its rules over their own test
 * events before it reports ready — and that warm-up must never page, write state or hold windows.
 */
describe('alert warms its rules up before /readyz, and the warm-up has no effect (real Kafka)', () => {
  let service: ServiceProcess | undefined;
  afterAll(async () => {
    await service?.stop();
  });

  it('is warmed up when ready, produces nothing from the warm-up, and alerts on real events as before', async () => {
    const { kafkaBrokers } = testEndpoints();
    const topics = { enriched: uniqueName('enriched'), alerts: uniqueName('alerts'), dlq: uniqueName('dlq'), state: uniqueName('state') };
    const kafka = createKafkaClient({ brokers: [kafkaBrokers], clientId: 'alert-warm-up', logger: silentLogger() });
    const admin = kafka.admin();
    await admin.start();
    await admin.ensureTopics([{ topic: topics.enriched, partitions: 2 }, { topic: topics.alerts, partitions: 1 }, { topic: topics.dlq, partitions: 1 }]);
    const port = await freePort();
    service = new ServiceProcess({
      service: 'alert',
      httpPort: port,
      logDir: join(mkdtempSync(join(tmpdir(), 'kaudit-alert-warm-up-')), 'logs'),
      env: {
        KAFKA_BROKERS: kafkaBrokers,
        ALERT_GROUP_PREFIX: uniqueName('alert'),
        ALERT_ENRICHED_TOPIC: topics.enriched,
        ALERT_ALERTS_TOPIC: topics.alerts,
        ALERT_DLQ_TOPIC: topics.dlq,
        ALERT_STATE_TOPIC: topics.state,
        ALERT_FROM_BEGINNING: 'true',
        // Quick idle flushes: warm-up windows, had they leaked into the service, would close and page.
        ALERT_IDLE_GRACE_MS: '200',
        ALERT_TICK_MS: '100',
        // Enough to take seconds: a /readyz that turned 200 before the warm-up ended would be seen.
        ALERT_WARM_UP_EVENTS: '50000',
        ALERT_WARM_UP_MAX_MS: '60000',
      },
    });
    await service.start(); // resolves at the first /readyz 200; the default pack and its tests

    // Ready means warmed up: the warm-up finished first, ran at least what was asked, and went all
    // the way to computing alerts (which it dropped).
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain('kaudit_events_total{component="warm-up",event="warm_up_done"} 1');
    const done = readFileSync(service.logFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"warm_up_done"'))
      .map((l) => JSON.parse(l) as { events: number; outputs: number; codecRecords: number });
    expect(done).toHaveLength(1);
    expect(done[0]?.events).toBeGreaterThanOrEqual(50_000);
    expect(done[0]?.outputs).toBeGreaterThan(0);
    // Its events also went through kafkajs' fetch decoding and produce encoding, named for the enriched topic.
    expect(done[0]?.codecRecords).toBeGreaterThan(0);

    // A real event afterwards alerts exactly as without a warm-up (no window or dedup state left
    // over), and the alerts topic holds only its alerts: the warm-up's thousands never left.
    const base = sampleAuditRecord();
    const producer = kafka.producer();
    await producer.start();
    await produceEnriched(producer, topics.enriched, [
      { ...base, auditID: uniqueName('a'), requestReceivedUs: Date.now() * 1000, verb: 'delete', operation: 'delete', objectRef: { ...base.objectRef, apiGroup: 'apps', resource: 'deployments', name: 'nginx' } },
    ]);
    await producer.stop();
    const records = await consumeAll(kafka, topics.alerts, 2, 60_000);
    const alerts = records.map((r) => alertRecordSchema.parse(JSON.parse(r.value?.toString() ?? '')));
    expect(alerts.map((a) => a.ruleId).sort()).toEqual(['falco-k8s-object-deleted', 'sigma-deployment-deleted']);
    // Past the idle grace several ticks: any window the warm-up had opened in the service would have closed by now.
    await new Promise((r) => setTimeout(r, 1500));
    const written = (await admin.fetchTopicOffsets(topics.alerts)).reduce((sum, p) => sum + Number(p.high), 0);
    expect(written).toBe(2);
    // The topics the warm-up's records were encoded for hold only the real traffic.
    const total = async (topic: string) => (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
    expect(await total(topics.enriched)).toBe(1);
    expect(await total(topics.dlq)).toBe(0);
    await admin.stop();
  });
});
