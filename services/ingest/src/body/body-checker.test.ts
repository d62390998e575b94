import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setFlagsFromString } from 'node:v8';
import { sampleAuditEvent, sampleEventList } from '../fixtures/sample-audit-event.js';
import { BodyChecker, checkedEvents } from './body-checker.js';

const limits = { maxDepth: 32, maxEventBytes: 4096, window: { retentionDays: 365, maxFutureSkewMs: 900_000 } };
// The sample events happened on 2026-11-22; received an hour later.
const RECEIVED = Date.parse('2026-11-22T16:00:00Z');
const noId = sampleAuditEvent(2);
delete noId.auditID;
const big = sampleAuditEvent(3, { responseObject: { data: 'x'.repeat(10_000) } });
// An integer beyond 2^53: only the bytes as received keep it exact.
const other = sampleAuditEvent(4, { user: { username: 'alice', groups: ['system:authenticated'] } });
const body = Buffer.from(JSON.stringify(sampleEventList([sampleAuditEvent(1), noId, big, other])).replace('"level"', '"huge":12345678901234567890,"level"'));

describe('BodyChecker', () => {
  const pooled = new BodyChecker({ threads: 1, ...limits });
  const inline = new BodyChecker({ threads: 0, ...limits });
  beforeAll(() => Promise.all([pooled.start(), inline.start()]), 60_000);
  afterAll(() => Promise.all([pooled.stop(), inline.stop()]));

  it('on a worker thread gives exactly what parsing on the event loop gives', async () => {
    const [a, b] = await Promise.all([pooled.check(body, RECEIVED), inline.check(body, RECEIVED)]);
    // Bytes of their own arrive from a worker as a Uint8Array, from the loop as a Buffer: compare contents.
    const plain = (v: unknown): unknown =>
      v instanceof Uint8Array ? Buffer.from(v).toString('base64') : Array.isArray(v) ? v.map(plain) : typeof v === 'object' && v !== null ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)])) : v;
    expect(a.ok).toBe(true);
    expect(plain(a)).toEqual(plain(b));
  });

  it('hands valid events back as ranges of the caller’s body, so they are published byte-for-byte', async () => {
    const checked = await pooled.check(body, RECEIVED);
    if (!checked.ok) throw new Error(checked.message);
    const { accepted, rejected, truncated } = checkedEvents(body, checked);
    // Views of the caller's body, not copies — but the re-serialised (truncated) one, which has bytes of its own.
    expect(accepted.map((e) => e.value.buffer === body.buffer)).toEqual([true, false, true]);
    expect(accepted.map((e) => e.user)).toEqual(['system:serviceaccount:ci:deployer', 'system:serviceaccount:ci:deployer', 'alice']);
    expect(accepted[0]!.value.toString()).toContain('"huge":12345678901234567890');
    expect(accepted[2]!.value.toString()).toBe(JSON.stringify(other));
    // The oversize event comes back re-serialised without its objects, marked.
    expect(accepted[1]?.truncated).toBe('requestObject,responseObject');
    expect(JSON.parse(accepted[1]!.value.toString()).responseObject).toBeUndefined();
    expect(truncated).toBe(1);
    expect(rejected.map((r) => [r.index, r.code])).toEqual([[1, 'INPUT_INVALID']]);
    expect(JSON.parse(rejected[0]!.value.toString())).toEqual(noId);
  });

  it('names what is wrong with a body it refuses', async () => {
    expect(await pooled.check(Buffer.from('{"kind":"EventList",'), RECEIVED)).toMatchObject({ ok: false, problem: 'malformed-json' });
    expect(await pooled.check(Buffer.from('['.repeat(100)), RECEIVED)).toMatchObject({ ok: false, problem: 'too-deep' });
    expect(await pooled.check(Buffer.from([0x7b, 0xff, 0x7d]), RECEIVED)).toMatchObject({ ok: false, problem: 'invalid-utf8' });
  });
});

describe('BodyChecker parse workers', () => {
  it('have the young generation they are given, even when node was started with a larger one for the event loop', async () => {
    // The service runs with --max-semi-space-size=16 on node's command line (SERVICE_V8_FLAGS): a process-wide
    // V8 flag, which V8 applies to every isolate, over a worker's own resourceLimits.
    setFlagsFromString('--max-semi-space-size=16');
    const checker = new BodyChecker({ threads: 1, ...limits, maxEventBytes: 256 * 1024, youngGenerationMiB: 6 });
    await checker.start();
    try {
      // Enough parsing for V8 to grow the nursery to its limit: 200 bodies of 400 events, ~130 MB of JSON.
      const batch = Buffer.from(JSON.stringify(sampleEventList(Array.from({ length: 400 }, (_, i) => sampleAuditEvent(i)))));
      for (let i = 0; i < 200; i++) expect((await checker.check(batch, RECEIVED)).ok).toBe(true);
      // 6 MiB of young generation is two 2 MiB semi-spaces; with the flag's 16 MiB ones it would be 32 MiB.
      expect((await checker.heapSpaces()).new_space).toBeLessThanOrEqual(4 * 1024 * 1024);
    } finally {
      await checker.stop();
    }
  }, 120_000);
});
