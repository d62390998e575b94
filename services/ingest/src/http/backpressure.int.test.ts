import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEndpoints } from '@kaudit/testkit';
import { sampleAuditEvent, sampleEventList } from '../fixtures/sample-audit-event.js';
import { send, startIngest, TOKENS, type RunningIngest } from '../test-support/ingest-harness.js';

let ingest: RunningIngest;
beforeAll(async () => {
  // Room for one body in flight at a time.
  ingest = await startIngest({ brokers: testEndpoints().kafkaBrokers, env: { INGEST_MAX_BODY_BYTES: String(256 * 1024), INGEST_MAX_INFLIGHT_BYTES: String(260 * 1024) } });
});
afterAll(async () => {
  await ingest?.stop();
});

describe('bounded in-flight bytes', () => {
  it('answers 429 with Retry-After instead of buffering more, and serves again once room is back', async () => {
    const url = new URL(`${ingest.url}/v1/clusters/prod-eu/audit`);
    const headers = { authorization: `Bearer ${TOKENS.prodEu}`, 'content-type': 'application/json' };
    const body = Buffer.from(JSON.stringify(sampleEventList(Array.from({ length: 20 }, (_, i) => sampleAuditEvent(i)))));
    // A slow client: chunked upload (so the full body limit is reserved), first half only for now.
    let answer: (status: number) => void = () => undefined;
    const slowStatus = new Promise<number>((resolve) => (answer = resolve));
    const slow = request({ hostname: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => answer(res.statusCode ?? 0));
    });
    slow.write(body.subarray(0, 100));
    // Until the server has taken the first request's reservation, a second one may still get in; poll.
    let shed: Awaited<ReturnType<typeof send>> | undefined;
    for (let i = 0; i < 50 && shed === undefined; i++) {
      const res = await send(url.href, { headers, body });
      if (res.status === 429) shed = res;
      else expect(res.status).toBe(200);
    }
    expect(shed?.status).toBe(429);
    expect(shed?.headers['retry-after']).toMatch(/^\d+$/);
    expect(String(shed?.json().message)).toContain('in flight');
    slow.end(body.subarray(100));
    expect(await slowStatus).toBe(200);
    expect((await send(url.href, { headers, body })).status).toBe(200);
  });
});
