import { afterEach, describe, expect, it } from 'vitest';
import { createNotifier, notifierConfigSchema } from '../notifiers/registry.js';
import { sampleAlert } from '../notifiers/test-helpers/sample-alert.js';
import { VendorReceiver, type ReceiverBehaviour } from '../notifiers/test-helpers/vendor-receiver.js';
import { RateLimiter } from './rate-limiter.js';
import { sendWithRetry, SendAbandoned } from './send-with-retry.js';

const receivers: VendorReceiver[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.stop()));
});

async function setup(behaviour: ReceiverBehaviour, running = () => true) {
  const rx = new VendorReceiver(behaviour);
  receivers.push(rx);
  const url = await rx.start();
  const notifier = createNotifier(notifierConfigSchema.parse({ type: 'webhook', name: 'w', url }), { fetch: globalThis.fetch, nowMs: Date.now, timeoutMs: 5000 });
  const slept: number[] = [];
  // Real HTTP, virtual waiting: the test checks how long the worker WOULD wait, without waiting.
  const sleep = async (ms: number) => {
    slept.push(ms);
  };
  const limiter = new RateLimiter({ perSecond: 1000, burst: 1000, nowMs: Date.now, sleep });
  const deps = { limiter, sleep, isRunning: running, heartbeat: async () => undefined };
  return { rx, notifier, slept, deps };
}

const policy = { maxAttempts: 4, initialBackoffMs: 100, maxBackoffMs: 10_000 };

describe('sendWithRetry', () => {
  it('honours Retry-After on 429 instead of its own backoff', async () => {
    const { rx, notifier, slept, deps } = await setup({ respond: (n) => (n === 0 ? { status: 429, headers: { 'retry-after': '3' } } : { status: 200 }) });
    const outcome = await sendWithRetry(notifier, sampleAlert(), policy, deps);
    expect(outcome).toMatchObject({ ok: true, attempts: 2 });
    expect(slept.reduce((a, b) => a + b, 0)).toBe(3000);
    expect(rx.arrivals).toHaveLength(2);
  });

  it('backs off exponentially on 5xx, then reports failure after maxAttempts', async () => {
    const { rx, notifier, slept, deps } = await setup({ respond: () => ({ status: 502 }) });
    const outcome = await sendWithRetry(notifier, sampleAlert(), policy, deps);
    expect(outcome).toMatchObject({ ok: false, attempts: 4 });
    expect(slept).toEqual([100, 200, 400]);
    expect(rx.arrivals).toHaveLength(4);
  });

  it('does not retry a permanent refusal', async () => {
    const { rx, notifier, deps } = await setup({ respond: () => ({ status: 400 }) });
    expect(await sendWithRetry(notifier, sampleAlert(), policy, deps)).toMatchObject({ ok: false, attempts: 1 });
    expect(rx.arrivals).toHaveLength(1);
  });

  it('gives up without an outcome when the worker stops (the alert is redelivered later)', async () => {
    let running = true;
    const { notifier, deps } = await setup({ respond: () => ({ status: 503 }) }, () => running);
    const pending = sendWithRetry(notifier, sampleAlert(), policy, { ...deps, sleep: async () => void (running = false) });
    await expect(pending).rejects.toBeInstanceOf(SendAbandoned);
  });
});
