import { describe, expect, it } from 'vitest';
import { createKafkaClient } from '@kaudit/kafka';
import { consumeRawEvents, silentLogger, testEndpoints, uniqueName } from '@kaudit/testkit';
import { sampleAuditEvent, sampleEventList } from '../fixtures/sample-audit-event.js';
import { send, startIngest, TOKENS } from '../test-support/ingest-harness.js';

describe('ingest on SIGTERM (lifecycle stop)', () => {
  it('finishes the requests in flight before closing: each is answered, and every acknowledged event is on the topic', async () => {
    const brokers = testEndpoints().kafkaBrokers;
    const ingest = await startIngest({ brokers });
    const url = `${ingest.url}/v1/clusters/prod-eu/audit`;
    const headers = { authorization: `Bearer ${TOKENS.prodEu}`, 'content-type': 'application/json' };
    const requests = Array.from({ length: 12 }, (_, r) => {
      const events = Array.from({ length: 300 }, (_, i) => sampleAuditEvent(r * 1000 + i));
      return send(url, { headers, body: JSON.stringify(sampleEventList(events)) }).then(
        (res) => ({ status: res.status, ids: events.map((e) => e.auditID as string) }),
        () => ({ status: 0, ids: [] as string[] }), // refused after close began: never accepted, the apiserver retries
      );
    });
    // Stop once the server is busy with them: the first answer came back, the others are in flight.
    await Promise.race(requests);
    await ingest.stop();
    const results = await Promise.all(requests);
    expect(results.map((r) => r.status).filter((s) => s !== 200 && s !== 503 && s !== 0)).toEqual([]);
    // At least the in-flight ones beyond the first were answered 200 after stop began.
    expect(results.filter((r) => r.status === 200).length).toBeGreaterThan(1);

    const reader = createKafkaClient({ brokers: [brokers], clientId: uniqueName('drain-check'), logger: silentLogger() });
    // Events, not records: a raw.v2 record holds many.
    const onTopic = (await consumeRawEvents(reader, ingest.rawTopic, 60_000)).length;
    const acknowledged = results.filter((r) => r.status === 200).reduce((s, r) => s + r.ids.length, 0);
    expect(onTopic).toBeGreaterThanOrEqual(acknowledged);
  });
});
