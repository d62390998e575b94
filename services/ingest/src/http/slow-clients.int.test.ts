import { request, type ClientRequest } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEndpoints } from '@kaudit/testkit';
import { sampleAuditEvent, sampleEventList } from '../fixtures/sample-audit-event.js';
import { send, startIngest, TOKENS, type RunningIngest } from '../test-support/ingest-harness.js';

const KIB = 1024;
const headersFor = (token: string) => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });
const body = Buffer.from(JSON.stringify(sampleEventList(Array.from({ length: 5 }, (_, i) => sampleAuditEvent(i)))));

interface Upload {
  req: ClientRequest;
  /** Status and body of the answer (0 when the connection closed without one). */
  answer: Promise<{ status: number; text: string }>;
}

/** A chunked POST (no Content-Length, so the full body limit is reserved) whose body the test writes by hand. */
function openUpload(url: URL, token: string): Upload {
  let settle: (a: { status: number; text: string }) => void = () => undefined;
  const answer = new Promise<{ status: number; text: string }>((resolve) => (settle = resolve));
  const req = request({ hostname: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: headersFor(token), agent: false }, (res) => {
    const parts: Buffer[] = [];
    res.on('data', (c: Buffer) => parts.push(c));
    res.on('end', () => settle({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString() }));
  });
  req.on('error', () => settle({ status: 0, text: '' }));
  req.flushHeaders();
  return { req, answer };
}

/** Resolves with the answer, or with status -1 if none came within `ms` (the test then fails on the status, not by hanging). */
function within(answer: Promise<{ status: number; text: string }>, ms: number) {
  return Promise.race([answer, sleep(ms).then(() => ({ status: -1, text: `no answer within ${ms} ms` }))]);
}

describe('request body timeouts', () => {
  let ingest: RunningIngest;
  beforeAll(async () => {
    ingest = await startIngest({ brokers: testEndpoints().kafkaBrokers, env: { INGEST_BODY_TIMEOUT_MS: '3000', INGEST_IDLE_TIMEOUT_MS: '1500' } });
  });
  afterAll(async () => {
    await ingest?.stop();
  });

  it('answers 408 to a body trickled byte by byte once the body timeout is over, and keeps serving', async () => {
    const url = new URL(`${ingest.url}/v1/clusters/prod-eu/audit`);
    const upload = openUpload(url, TOKENS.prodEu);
    let stop = false;
    void (async () => {
      // One byte every 200 ms: never idle for long, but the body would take minutes.
      for (let i = 0; i < body.length && !stop && !upload.req.destroyed; i++) {
        upload.req.write(body.subarray(i, i + 1));
        await sleep(200);
      }
    })();
    const answer = await within(upload.answer, 60_000);
    stop = true;
    upload.req.destroy();
    expect(answer.status).toBe(408);
    expect(answer.text).toMatch(/not complete within 3000 ms/);
    expect((await send(url.href, { headers: headersFor(TOKENS.prodEu), body })).status).toBe(200);
  });

  it('answers 408 to a body that stops arriving, after the idle timeout', async () => {
    const url = new URL(`${ingest.url}/v1/clusters/prod-eu/audit`);
    const upload = openUpload(url, TOKENS.prodEu);
    upload.req.write(body.subarray(0, 100));
    const answer = await within(upload.answer, 60_000);
    upload.req.destroy();
    expect(answer.status).toBe(408);
    expect(answer.text).toMatch(/no body bytes for 1500 ms/);
    expect((await send(url.href, { headers: headersFor(TOKENS.prodEu), body })).status).toBe(200);
  });
});

describe('in-flight byte budget, fair per cluster', () => {
  let ingest: RunningIngest;
  beforeAll(async () => {
    // Room for exactly eight chunked uploads at once; each cluster may hold a quarter (two).
    ingest = await startIngest({
      brokers: testEndpoints().kafkaBrokers,
      env: { INGEST_MAX_BODY_BYTES: String(256 * KIB), INGEST_MAX_INFLIGHT_BYTES: String(8 * 256 * KIB), INGEST_BODY_TIMEOUT_MS: '120000', INGEST_IDLE_TIMEOUT_MS: '120000' },
    });
  });
  afterAll(async () => {
    await ingest?.stop();
  });

  it('eight slow uploads of one cluster do not shut out another cluster', async () => {
    const eu = new URL(`${ingest.url}/v1/clusters/prod-eu/audit`);
    const us = new URL(`${ingest.url}/v1/clusters/prod-us/audit`);
    const slow = Array.from({ length: 8 }, () => openUpload(eu, TOKENS.prodEu));
    for (const u of slow) u.req.write(body.subarray(0, 100));
    // Until the server has taken the slow uploads' reservations, prod-eu may still get in; poll until it is shed.
    let shed: Awaited<ReturnType<typeof send>> | undefined;
    for (let i = 0; i < 100 && shed === undefined; i++) {
      const res = await send(eu.href, { headers: headersFor(TOKENS.prodEu), body });
      if (res.status === 429) shed = res;
      else await sleep(50);
    }
    expect(shed?.status).toBe(429);
    // prod-eu holds all it may; prod-us still gets in.
    const other = await send(us.href, { headers: headersFor(TOKENS.prodUs), body });
    expect(other.status).toBe(200);
    // The slow uploads that got in finish normally; the others were shed with Retry-After.
    for (const u of slow) if (!u.req.destroyed) u.req.end(body.subarray(100));
    const answers = await Promise.all(slow.map((u) => within(u.answer, 60_000)));
    expect(answers.filter((a) => a.status === 200).length).toBeGreaterThanOrEqual(1);
    expect(answers.every((a) => a.status === 200 || a.status === 429)).toBe(true);
    expect((await send(eu.href, { headers: headersFor(TOKENS.prodEu), body })).status).toBe(200);
  });
});
