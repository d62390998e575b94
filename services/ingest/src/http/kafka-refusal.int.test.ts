import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TOPIC_SPECS, TOPICS } from '@kaudit/kafka';
import { testEndpoints } from '@kaudit/testkit';
import { sampleAuditEvent, sampleEventList } from '../fixtures/sample-audit-event.js';
import { send, startIngest, TOKENS, type RunningIngest } from '../test-support/ingest-harness.js';

/**
 * Issue 11 §2: a permanent Kafka refusal (here a batch over the raw topic's max.message.bytes; an ACL
 * denial is the same kind) is not an outage. 503 + Retry-After tells the apiserver "later"; nothing will
 * change later, so ingest says what is wrong with a 500 instead.
 */
let ingest: RunningIngest;
const rawSpec = DEFAULT_TOPIC_SPECS.find((s) => s.topic === TOPICS.raw);
const headers = { authorization: `Bearer ${TOKENS.prodEu}`, 'content-type': 'application/json' };

beforeAll(async () => {
  ingest = await startIngest({ brokers: testEndpoints().kafkaBrokers });
});
afterAll(async () => {
  await ingest?.stop();
});

describe('ingest when Kafka refuses a batch for good', () => {
  it('answers 500 naming the refusal, without Retry-After, and keeps serving once the topic accepts again', async () => {
    const topic = { topic: ingest.rawTopic, partitions: rawSpec?.partitions ?? 6, configs: { ...rawSpec?.configs } };
    await ingest.admin.ensureTopics([{ ...topic, configs: { ...topic.configs, 'max.message.bytes': '1024' } }]);
    const body = JSON.stringify(sampleEventList(Array.from({ length: 5 }, (_, i) => sampleAuditEvent(9100 + i))));
    const res = await send(`${ingest.url}/v1/clusters/prod-eu/audit`, { headers, body });
    expect(res.status).toBe(500);
    expect(res.headers['retry-after']).toBeUndefined();
    expect(res.json()).toMatchObject({ error: 'KAFKA_REJECTED' });
    expect(String(res.json().message)).toMatch(/refused/);
    await ingest.admin.ensureTopics([{ ...topic, configs: { ...topic.configs, 'max.message.bytes': String(8 * 1024 * 1024) } }]);
    // The broker applies a topic config change asynchronously: the apiserver's next retries get through.
    let status = 0;
    for (let attempt = 0; attempt < 40 && status !== 200; attempt++) {
      if (attempt > 0) await sleep(250);
      status = (await send(`${ingest.url}/v1/clusters/prod-eu/audit`, { headers, body })).status;
    }
    expect(status).toBe(200);
  });
});
