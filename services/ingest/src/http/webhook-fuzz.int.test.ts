import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEndpoints } from '@kaudit/testkit';
import { sampleAuditEvent, sampleEventList } from '../fixtures/sample-audit-event.js';
import { send, startIngest, TOKENS, type RunningIngest } from '../test-support/ingest-harness.js';

let ingest: RunningIngest;
beforeAll(async () => {
  ingest = await startIngest({ brokers: testEndpoints().kafkaBrokers, env: { INGEST_MAX_BODY_BYTES: String(64 * 1024) } });
});
afterAll(async () => {
  await ingest?.stop();
});

/** A small deterministic PRNG, so a failing mutation can be reproduced from the seed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TOKENS_OF_JSON = ['{', '}', '[', ']', '"', ':', ',', 'null', 'true', '-1e999', '"\\u0000"', '\\', '\u{1F600}'];

function mutate(base: Buffer, rand: () => number): Buffer {
  const bytes = Buffer.from(base);
  const pick = (n: number) => Math.floor(rand() * n);
  switch (pick(7)) {
    case 0: // flip bits
      for (let i = 0, n = 1 + pick(8); i < n; i++) {
        const at = pick(bytes.length);
        bytes[at] = (bytes[at] ?? 0) ^ (1 << pick(8));
      }
      return bytes;
    case 1: // truncate
      return bytes.subarray(0, pick(bytes.length));
    case 2: {
      // insert JSON-ish tokens
      const at = pick(bytes.length);
      return Buffer.concat([bytes.subarray(0, at), Buffer.from(TOKENS_OF_JSON[pick(TOKENS_OF_JSON.length)] ?? ''), bytes.subarray(at)]);
    }
    case 3: // random bytes
      return randomBytes(pick(2048));
    case 4: {
      // duplicate a slice (nesting, oversize)
      const a = pick(bytes.length);
      const b = a + pick(bytes.length - a);
      return Buffer.concat([bytes.subarray(0, b), ...Array.from({ length: 1 + pick(20) }, () => bytes.subarray(a, b)), bytes.subarray(b)]);
    }
    case 5: // replace a value with another type
      return Buffer.from(bytes.toString('latin1').replace(/"(auditID|stage|verb|level|items|kind)":/, `"$1":${['1', 'null', '[]', '{}', '"x"'][pick(5)]},"_":`), 'latin1');
    default:
      return bytes;
  }
}

describe('the webhook under fuzzing', () => {
  it('answers every one of 2000 mutated bodies with 2xx/4xx/503 and keeps serving', async () => {
    const rand = prng(20261122);
    const base = Buffer.from(JSON.stringify(sampleEventList(Array.from({ length: 5 }, (_, i) => sampleAuditEvent(i)))));
    const url = `${ingest.url}/v1/clusters/prod-eu/audit`;
    const contentTypes = ['application/json', 'application/json; charset=utf-8', 'text/plain', ''];
    const statuses = new Map<number, number>();
    let index = 0;
    const total = 2000;
    const worker = async () => {
      while (index < total) {
        index++;
        const body = mutate(base, rand);
        const gzip = rand() < 0.15;
        const contentType = rand() < 0.9 ? 'application/json' : (contentTypes[Math.floor(rand() * contentTypes.length)] ?? '');
        const res = await send(url, {
          headers: { authorization: `Bearer ${TOKENS.prodEu}`, ...(contentType ? { 'content-type': contentType } : {}), ...(gzip ? { 'content-encoding': 'gzip' } : {}) },
          body: gzip && rand() < 0.7 ? gzipSync(body) : body,
        });
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const codes = [...statuses.keys()];
    expect(codes.every((c) => (c >= 200 && c < 300) || (c >= 400 && c < 500) || c === 503), JSON.stringify(Object.fromEntries(statuses))).toBe(true);
    expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(total);
    // The mutations reach both sides: some bodies survive as valid batches, most are refused.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(0);
    // Still up and still doing its job.
    expect((await send(`${ingest.url}/healthz`, { method: 'GET' })).status).toBe(200);
    const ok = await send(url, { headers: { authorization: `Bearer ${TOKENS.prodEu}`, 'content-type': 'application/json' }, body: JSON.stringify(sampleAuditEvent(99_999)) });
    expect(ok.status).toBe(200);
  });
});
