import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createLogger, createTelemetry } from '@kaudit/logging';
import { WarmUp } from './warm-up.js';

const telemetry = () => createTelemetry(createLogger({ service: 'test', level: 'silent' }), new Registry(), 'warm-up');

describe('WarmUp', () => {
  it('runs rounds until the events asked for, and is ready only after', async () => {
    let rounds = 0;
    const warmUp = new WarmUp({ round: () => ({ events: 300, outputs: (rounds++, 2) }), events: 1000, maxMs: 60_000, telemetry: telemetry() });
    expect(await warmUp.readiness.check()).toBe(false);
    await warmUp.start();
    expect(rounds).toBe(4);
    expect(await warmUp.readiness.check()).toBe(true);
  });

  it('stops at maxMs, and at once when a round has nothing to run', async () => {
    let now = 0;
    let rounds = 0;
    const slow = new WarmUp({ round: () => ((now += 40), rounds++, { events: 1 }), events: 1_000_000, maxMs: 100, telemetry: telemetry(), nowMs: () => now });
    await slow.start();
    expect(rounds).toBe(3);
    let empty = 0;
    const none = new WarmUp({ round: () => (empty++, { events: 0 }), events: 1000, maxMs: 60_000, telemetry: telemetry() });
    await none.start();
    expect(empty).toBe(1);
    expect(await none.readiness.check()).toBe(true);
  });

  it('adds the service’s summary fields to warm_up_done, read once the rounds are over', async () => {
    const lines: string[] = [];
    const destination = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(chunk.toString()), done()) });
    const logged = createTelemetry(createLogger({ service: 'test', level: 'info', destination }), new Registry(), 'warm-up');
    let rounds = 0;
    const warmUp = new WarmUp({ round: () => (rounds++, { events: 10 }), summary: () => ({ threads: rounds * 2 }), events: 30, maxMs: 60_000, telemetry: logged });
    await warmUp.start();
    const done = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.event === 'warm_up_done');
    expect(done).toEqual([expect.objectContaining({ threads: 6, events: 30, rounds: 3 })]);
  });
});
