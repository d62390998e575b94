import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createKafkaClient } from '@kaudit/kafka';
import { LocalStack, freePort } from '@kaudit/stack';
import { consumeAll, silentLogger, testEndpoints, uniqueName } from '@kaudit/testkit';
import { sampleAuditEvent, sampleEventList } from '../fixtures/sample-audit-event.js';
import { send, startIngest, TOKENS, type RunningIngest } from '../test-support/ingest-harness.js';

const root = fileURLToPath(new URL('../../../../.kaudit', import.meta.url));
const name = uniqueName('ingest-broker-down');
let stack: LocalStack | undefined;
let ingest: RunningIngest | undefined;

afterAll(async () => {
  await ingest?.stop();
  await stack?.down();
  rmSync(join(root, 'stack', name), { recursive: true, force: true });
});

describe('ingest with the broker stopped', () => {
  it('answers 503 with Retry-After, never 2xx, and every acknowledged event is on the topic afterwards', async () => {
    // A private broker: stopping the shared one would break everybody else's tests.
    stack = new LocalStack({
      root,
      name,
      kafkaPort: await freePort(),
      kafkaControllerPort: await freePort(),
      clickhouseHttpPort: await freePort(),
      externalClickHouse: testEndpoints().clickhouseUrl,
      logger: silentLogger(),
    });
    const { kafkaBrokers } = await stack.up();
    ingest = await startIngest({ brokers: kafkaBrokers, env: { INGEST_PRODUCE_TIMEOUT_MS: '2000' } });
    const url = `${ingest.url}/v1/clusters/prod-eu/audit`;
    const headers = { authorization: `Bearer ${TOKENS.prodEu}`, 'content-type': 'application/json' };
    const acknowledged: string[] = [];
    const statuses: number[] = [];
    let next = 0;
    const postBatch = async () => {
      const events = Array.from({ length: 20 }, () => sampleAuditEvent(next++));
      const res = await send(url, { headers, body: JSON.stringify(sampleEventList(events)) });
      statuses.push(res.status);
      if (res.status === 200) acknowledged.push(...events.map((e) => e.auditID as string));
      else {
        expect(res.status).toBe(503);
        expect(res.headers['retry-after']).toMatch(/^\d+$/);
      }
      return res.status;
    };

    for (let i = 0; i < 5; i++) expect(await postBatch()).toBe(200);
    // Keep two clients sending while the broker goes away: some batches straddle the stop.
    let stopping = true;
    const senders = [0, 1].map(async () => {
      while (stopping) await postBatch();
    });
    await stack.stopEngine('kafka');
    const ready = await send(`${ingest.url}/readyz`, { method: 'GET' });
    expect(ready.status).toBe(503);
    let downAnswers = 0;
    for (let i = 0; i < 3; i++) {
      if ((await postBatch()) === 503) downAnswers++;
    }
    stopping = false;
    await Promise.all(senders);
    expect(downAnswers).toBe(3);
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);

    await stack.up();
    // The service recovers by itself once the broker is back (the apiserver's retries then succeed).
    let recovered = false;
    for (let i = 0; i < 60 && !recovered; i++) {
      recovered = (await postBatch()) === 200;
      if (!recovered) await sleep(1000);
    }
    expect(recovered).toBe(true);

    const reader = createKafkaClient({ brokers: [kafkaBrokers], clientId: uniqueName('reader'), logger: silentLogger() });
    // Read the whole topic, not just `acknowledged.length` records: a batch answered 503 may still have
    // landed (that is allowed; downstream deduplicates), so stopping at that count could miss the last
    // acknowledged batch and report a loss that did not happen.
    const admin = reader.admin();
    await admin.start();
    const onTopicTotal = (await admin.fetchTopicOffsets(ingest.rawTopic)).reduce((sum, p) => sum + Number(p.high), 0);
    await admin.stop();
    expect(onTopicTotal).toBeGreaterThanOrEqual(acknowledged.length);
    const records = await consumeAll(reader, ingest.rawTopic, onTopicTotal, 60_000);
    const onTopic = new Set(records.map((r) => (JSON.parse(String(r.value)) as { auditID: string }).auditID));
    const missing = acknowledged.filter((id) => !onTopic.has(id));
    expect(missing).toEqual([]);
  });
});
