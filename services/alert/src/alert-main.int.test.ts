import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { alertRecordSchema, sampleAuditRecord } from '@kaudit/audit-schema';
import { createKafkaClient } from '@kaudit/kafka';
import { freePort } from '@kaudit/stack';
import { ServiceProcess, consumeAll, silentLogger, testEndpoints, uniqueName } from '@kaudit/testkit';
import { produceEnriched } from './test-support/enriched-producer.js';

describe('alert main.ts with the default pack and no notifiers (real Kafka)', () => {
  let service: ServiceProcess | undefined;
  afterAll(async () => {
    await service?.stop();
  });

  it('runs, writes alerts to Kafka only, and counts them in /metrics', async () => {
    const { kafkaBrokers } = testEndpoints();
    const topics = { enriched: uniqueName('enriched'), alerts: uniqueName('alerts'), dlq: uniqueName('dlq'), state: uniqueName('state') };
    const kafka = createKafkaClient({ brokers: [kafkaBrokers], clientId: 'alert-main', logger: silentLogger() });
    const admin = kafka.admin();
    await admin.start();
    await admin.ensureTopics([{ topic: topics.enriched, partitions: 2 }, { topic: topics.alerts, partitions: 1 }, { topic: topics.dlq, partitions: 1 }]);
    await admin.stop();
    const port = await freePort();
    service = new ServiceProcess({
      service: 'alert',
      httpPort: port,
      logDir: join(mkdtempSync(join(tmpdir(), 'kaudit-alert-main-')), 'logs'),
      env: {
        KAFKA_BROKERS: kafkaBrokers,
        ALERT_GROUP_PREFIX: uniqueName('alert'),
        ALERT_ENRICHED_TOPIC: topics.enriched,
        ALERT_ALERTS_TOPIC: topics.alerts,
        ALERT_DLQ_TOPIC: topics.dlq,
        ALERT_STATE_TOPIC: topics.state,
        ALERT_FROM_BEGINNING: 'true',
      },
    });
    await service.start(); // rules from the default `rules/`, no ALERT_NOTIFIERS_FILE

    const base = sampleAuditRecord();
    const now = Date.now() * 1000;
    const producer = kafka.producer();
    await producer.start();
    await produceEnriched(producer, topics.enriched, [
      { ...base, auditID: uniqueName('a'), requestReceivedUs: now, verb: 'delete', operation: 'delete', objectRef: { ...base.objectRef, apiGroup: 'apps', resource: 'deployments', name: 'nginx' } },
    ]);
    await producer.stop();
    // Two rules of the default pack see a deleted Deployment: Sigma's (medium) and Falco's activity trail (info).
    const records = await consumeAll(kafka, topics.alerts, 2, 60_000);
    const alerts = records.map((r) => ({ key: r.key?.toString(), alert: alertRecordSchema.parse(JSON.parse(r.value?.toString() ?? '')) }));
    expect(alerts.map((a) => a.alert.ruleId).sort()).toEqual(['falco-k8s-object-deleted', 'sigma-deployment-deleted']);
    const sigma = alerts.find((a) => a.alert.ruleId === 'sigma-deployment-deleted');
    expect(sigma?.alert).toMatchObject({ summary: 'Alice Example deleted deployments default/nginx', count: 1 });
    for (const a of alerts) expect(a.key).toBe(a.alert.alertId);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain('kaudit_alerts_total{rule="sigma-deployment-deleted",severity="medium"} 1');
  });
});
