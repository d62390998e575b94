import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@kaudit/logging';
import { isKauditError } from '@kaudit/errors';
import { Lifecycle, type Component } from './lifecycle.js';
import { runUntilSignal } from './run-until-signal.js';
import { HealthServer } from './health-server.js';
import { ServiceFailure } from './service-failure.js';
import { KauditError } from '@kaudit/errors';

const logger = createLogger({ service: 'test', level: 'silent', destination: new Writable({ write: (_c, _e, d) => d() }) });

function recorder(events: string[], name: string, stopMs = 0): Component {
  return {
    name,
    start: async () => void events.push(`start ${name}`),
    stop: async () => {
      await new Promise((r) => setTimeout(r, stopMs));
      events.push(`stop ${name}`);
    },
  };
}

describe('Lifecycle', () => {
  it('stops started components in reverse order, once', async () => {
    const events: string[] = [];
    const lc = new Lifecycle({ logger, shutdownTimeoutMs: 1000 }).add(recorder(events, 'a')).add(recorder(events, 'b')).add(recorder(events, 'c'));
    await lc.start();
    await Promise.all([lc.stop(), lc.stop()]);
    expect(events).toEqual(['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a']);
  });

  it('gives up on a hanging component at the deadline and still reports it', async () => {
    const events: string[] = [];
    const hang: Component = { name: 'hang', start: async () => undefined, stop: () => new Promise(() => undefined) };
    const lc = new Lifecycle({ logger, shutdownTimeoutMs: 150 }).add(recorder(events, 'a')).add(hang).add(recorder(events, 'b'));
    await lc.start();
    const began = Date.now();
    const err = await lc.stop().catch((e: unknown) => e);
    expect(Date.now() - began).toBeLessThan(1000);
    expect(isKauditError(err, 'SHUTDOWN_TIMEOUT')).toBe(true);
    expect(String((err as Error).message)).toContain('hang');
    // a was never stopped because the deadline passed while hang was stopping
    expect(events).toEqual(['start a', 'start b', 'stop b']);
  });

  it('stops what already started when a later start fails', async () => {
    const events: string[] = [];
    const bad: Component = { name: 'bad', start: async () => Promise.reject(new Error('boom')), stop: async () => undefined };
    const lc = new Lifecycle({ logger, shutdownTimeoutMs: 1000 }).add(recorder(events, 'a')).add(bad);
    await expect(lc.start()).rejects.toThrow('boom');
    expect(events).toEqual(['start a', 'stop a']);
  });

  it('runs until SIGTERM, then stops', async () => {
    const events: string[] = [];
    const signals = Object.assign(new EventEmitter(), { exitCode: undefined as number | string | undefined });
    const lc = new Lifecycle({ logger, shutdownTimeoutMs: 1000 }).add(recorder(events, 'a'));
    const done = runUntilSignal(lc, signals, logger);
    await new Promise((r) => setTimeout(r, 20));
    expect(events).toEqual(['start a']);
    signals.emit('SIGTERM');
    await done;
    expect(events).toEqual(['start a', 'stop a']);
    expect(signals.exitCode).toBeUndefined();
  });
});

describe('ServiceFailure', () => {
  it('ends the run: the lifecycle stops, once start-up is over, and the exit code is 1', async () => {
    const events: string[] = [];
    const failure = new ServiceFailure();
    const signals = Object.assign(new EventEmitter(), { exitCode: undefined as number | string | undefined });
    // Fails while a later component is still starting: that one must be started, then stopped too.
    const failing: Component = { name: 'failing', start: async () => failure.fail(new KauditError('KAFKA_REJECTED', 'stopped for good')), stop: async () => void events.push('stop failing') };
    const slow = recorder(events, 'slow');
    const lc = new Lifecycle({ logger, shutdownTimeoutMs: 1000 }).add(failure, failing, { ...slow, start: () => new Promise((r) => setTimeout(r, 50)).then(slow.start) });
    await runUntilSignal(lc, signals, logger);
    expect(events).toEqual(['start slow', 'stop slow', 'stop failing']);
    expect(signals.exitCode).toBe(1);
    expect(failure.reason?.code).toBe('KAFKA_REJECTED');
  });

  it('fails /healthz and /readyz of a HealthServer given it', async () => {
    const failure = new ServiceFailure();
    const server = new HealthServer({ host: '127.0.0.1', port: 0, registry: new Registry(), readiness: [{ name: 'kafka', check: async () => true }], failure });
    await server.start();
    try {
      const base = `http://127.0.0.1:${server.port}`;
      expect([(await fetch(`${base}/healthz`)).status, (await fetch(`${base}/readyz`)).status]).toEqual([200, 200]);
      failure.fail(new KauditError('KAFKA_REJECTED', 'stopped for good'));
      failure.fail(new KauditError('INTERNAL', 'a later one does not replace the reason'));
      expect([(await fetch(`${base}/healthz`)).status, (await fetch(`${base}/readyz`)).status]).toEqual([503, 503]);
      expect(await (await fetch(`${base}/readyz`)).json()).toMatchObject({ checks: { kafka: true, 'not-failed': false } });
      expect(failure.reason?.code).toBe('KAFKA_REJECTED');
      expect(server.failed).toBe(failure.failed);
    } finally {
      await server.stop();
    }
  });
});

describe('HealthServer', () => {
  it('serves healthz, readyz (by checks) and metrics', async () => {
    let ready = false;
    const registry = new Registry();
    const server = new HealthServer({ host: '127.0.0.1', port: 0, registry, readiness: [{ name: 'kafka', check: async () => ready }] });
    await server.start();
    try {
      const base = `http://127.0.0.1:${server.port}`;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      const notReady = await fetch(`${base}/readyz`);
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toMatchObject({ checks: { kafka: false } });
      ready = true;
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      const metrics = await fetch(`${base}/metrics`);
      expect(metrics.headers.get('content-type')).toContain('text/plain');
    } finally {
      await server.stop();
    }
  });
});
