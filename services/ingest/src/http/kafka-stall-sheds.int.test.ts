import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { createKafkaClient } from '@kaudit/kafka';
import { consumeRawEvents, silentLogger, uniqueName } from '@kaudit/testkit';
import { sampleAuditEvent, sampleEventList } from '../fixtures/sample-audit-event.js';
import { send, startIngest, TOKENS, type RunningIngest } from '../test-support/ingest-harness.js';
import { startPrivateStack, type PrivateStack } from '../test-support/private-stack.js';

let priv: PrivateStack | undefined;
let ingest: RunningIngest | undefined;

afterAll(async () => {
  await ingest?.stop();
  await priv?.down();
});

// A batch answered 503 at the produce deadline is still retried by kafkajs, and every later send queued
// behind it waited its turn holding its records: during an outage, each apiserver retry that ingest took
// stayed in memory, and memory grew with the outage. Once a send is overdue, new ones must be refused at
// once (503, nothing kept), until it settles.
describe('ingest while Kafka is unreachable', () => {
  it('refuses new batches at once while an earlier send is overdue, keeping none of them, and recovers', async () => {
    priv = await startPrivateStack('ingest-kafka-stall');
    const { stack, kafkaBrokers } = priv;
    ingest = await startIngest({ brokers: kafkaBrokers, env: { INGEST_PRODUCE_TIMEOUT_MS: '1000' } });
    const url = `${ingest.url}/v1/clusters/prod-eu/audit`;
    const headers = { authorization: `Bearer ${TOKENS.prodEu}`, 'content-type': 'application/json' };
    let next = 0;
    const post = async () => {
      const events = Array.from({ length: 20 }, () => sampleAuditEvent(next++));
      const res = await send(url, { headers, body: JSON.stringify(sampleEventList(events)) });
      return { status: res.status, message: res.status === 200 ? '' : String(res.json().message), ids: events.map((e) => e.auditID as string) };
    };

    expect((await post()).status).toBe(200);
    await stack.stopEngine('kafka');
    const first = await post();
    expect(first.status).toBe(503);
    expect(first.message).toContain('within 1000 ms');
    const shed = [];
    for (let i = 0; i < 5; i++) shed.push(await post());
    for (const s of shed) {
      expect(s.status).toBe(503);
      expect(s.message).toContain('still unacknowledged');
    }

    await stack.up();
    let recovered: Awaited<ReturnType<typeof post>> | undefined;
    for (let i = 0; i < 90 && recovered === undefined; i++) {
      const r = await post();
      if (r.status === 200) recovered = r;
      else await sleep(1000);
    }
    expect(recovered).toBeDefined();

    // The shed batches were never kept for a later send: none of their events reached the topic.
    const reader = createKafkaClient({ brokers: [kafkaBrokers], clientId: uniqueName('reader'), logger: silentLogger() });
    const onTopic = new Set((await consumeRawEvents(reader, ingest.rawTopic, 60_000)).map((r) => (JSON.parse(String(r.value)) as { auditID: string }).auditID));
    expect(recovered?.ids.every((id) => onTopic.has(id))).toBe(true);
    expect(shed.flatMap((s) => s.ids).filter((id) => onTopic.has(id))).toEqual([]);
  });
});
