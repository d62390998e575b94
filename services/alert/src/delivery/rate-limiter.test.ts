import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limiter.js';

/** A virtual clock: sleeping advances it, so the test measures the limiter, not the machine. */
function virtualClock() {
  const clock = { now: 0, slept: [] as number[] };
  return {
    clock,
    nowMs: () => clock.now,
    sleep: async (ms: number) => {
      clock.slept.push(ms);
      clock.now += ms;
    },
  };
}

describe('RateLimiter', () => {
  it('lets a burst through, then spaces requests at the rate (Slack: 1/s per webhook)', async () => {
    const v = virtualClock();
    const limiter = new RateLimiter({ perSecond: 1, burst: 1, nowMs: v.nowMs, sleep: v.sleep });
    const at: number[] = [];
    for (let i = 0; i < 5; i++) {
      await limiter.acquire();
      at.push(v.clock.now);
    }
    expect(at).toEqual([0, 1000, 2000, 3000, 4000]);
  });

  it('PagerDuty-style 2/s with a burst of 2', async () => {
    const v = virtualClock();
    const limiter = new RateLimiter({ perSecond: 2, burst: 2, nowMs: v.nowMs, sleep: v.sleep });
    const at: number[] = [];
    await Promise.all(Array.from({ length: 6 }, () => limiter.acquire().then(() => at.push(v.clock.now))));
    expect(at).toEqual([0, 0, 500, 1000, 1500, 2000]);
  });
});
