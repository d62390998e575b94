import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient, RAW_HEADERS } from '@kaudit/kafka';
import { silentLogger } from '@kaudit/testkit';
import { BodyChecker } from '../body/body-checker.js';
import { ingestWarmUp } from './ingest-warm-up.js';
import { warmUpBodies } from './warm-up-samples.js';

const limits = { maxDepth: 128, maxEventBytes: 256 * 1024, window: { retentionDays: 365, maxFutureSkewMs: 900_000 } };
const reading = { maxBytes: 16 * 1024 * 1024, bodyTimeoutMs: 30_000, idleTimeoutMs: 10_000 };

describe('ingest warm-up round', () => {
  const pooled = new BodyChecker({ threads: 2, ...limits });
  const inline = new BodyChecker({ threads: 0, ...limits });
  beforeAll(() => Promise.all([pooled.start(), inline.start()]), 60_000);
  afterAll(() => Promise.all([pooled.stop(), inline.stop()]));

  it('checks a body on every worker of the pool in each round, and builds the records of all but the refused sample', async () => {
    const warm = ingestWarmUp({ bodyChecker: pooled, reading, instance: 'test', maxEventBytes: limits.maxEventBytes });
    const rounds = [await warm.round(), await warm.round(), await warm.round()];
    // Two bodies of 400 per round, one refused sample in each.
    expect(rounds).toEqual([0, 1, 2].map(() => ({ events: 800, outputs: 798 })));
    expect(warm.summary()).toEqual({ threads: 2, fewestPerThread: 1200, refusedBodies: 0, rawRecords: expect.any(Number) as number, codecRecords: 0 });
    // Several events a record (raw.v2), but at least one record a round.
    expect(warm.summary().rawRecords).toBeGreaterThanOrEqual(3);
    expect(warm.summary().rawRecords).toBeLessThan(3 * 798);
  }, 60_000);

  it('runs the records each round built through the Kafka client’s encoding (a client of no broker: nothing can be sent)', async () => {
    const kafka = createKafkaClient({ brokers: ['127.0.0.1:9'], clientId: 'warm-up-test', logger: silentLogger('ingest-warm-up-test') });
    const seen: string[] = [];
    const warm = ingestWarmUp({
      bodyChecker: pooled,
      reading,
      instance: 'test',
      maxEventBytes: limits.maxEventBytes,
      warmUpCodecs: (records) => {
        seen.push(...records.map((r) => String(r.headers?.[RAW_HEADERS.cluster])));
        return kafka.warmUpCodecs(records, { compression: 'zstd', topic: 'kaudit.audit.raw.v2' });
      },
    });
    expect([await warm.round(), await warm.round()]).toEqual([0, 1].map(() => ({ events: 800, outputs: 798 })));
    // Every raw record built went through the encoding.
    expect(warm.summary().codecRecords).toBe(warm.summary().rawRecords);
    expect(warm.summary().codecRecords).toBeGreaterThan(0);
    // What the webhook would publish: raw records, with the headers it sets.
    expect(new Set(seen)).toEqual(new Set(['warm-up']));
  }, 60_000);

  it('checks on the event loop when the service has no parse threads', async () => {
    const warm = ingestWarmUp({ bodyChecker: inline, reading, instance: 'test', maxEventBytes: limits.maxEventBytes });
    expect(await warm.round()).toEqual({ events: 400, outputs: 399 });
    expect(warm.summary()).toEqual({ threads: 1, fewestPerThread: 400, refusedBodies: 0, rawRecords: expect.any(Number) as number, codecRecords: 0 });
  });

  it('fits its bodies under a smaller body limit, and warms nothing but fails nothing when the limits refuse the samples', async () => {
    const small = ingestWarmUp({ bodyChecker: inline, reading: { ...reading, maxBytes: 64 * 1024 }, instance: 'test', maxEventBytes: limits.maxEventBytes });
    const round = await small.round();
    expect(round.events).toBeGreaterThan(10);
    expect(round.events).toBeLessThan(400);
    expect(round.outputs).toBe(round.events - 1);
    const shallow = new BodyChecker({ threads: 0, ...limits, maxDepth: 8 });
    const refused = ingestWarmUp({ bodyChecker: shallow, reading, instance: 'test', maxEventBytes: limits.maxEventBytes });
    expect(await refused.round()).toEqual({ events: 0, outputs: 0 });
    expect(refused.summary()).toEqual({ threads: 0, fewestPerThread: 0, refusedBodies: 1, rawRecords: 0, codecRecords: 0 });
    const tiny = ingestWarmUp({ bodyChecker: inline, reading: { ...reading, maxBytes: 1024 }, instance: 'test', maxEventBytes: limits.maxEventBytes });
    expect(await tiny.round()).toEqual({ events: expect.any(Number), outputs: expect.any(Number) });
  });

  it('samples are accepted by the webhook’s own check, every one but the last of each body (refused: no stage)', async () => {
    const bodies = warmUpBodies({ bodies: 3, perBody: 50, nowMs: Date.now() });
    for (const body of bodies) {
      const checked = await inline.check(body, Date.now());
      if (!checked.ok) throw new Error(checked.message);
      expect(checked.accepted.count).toBe(49);
      expect(checked.rejected.map((r) => [r.index, r.problem, r.reason])).toEqual([[49, 'invalid-event', expect.stringContaining('stage')]]);
    }
  });
});
