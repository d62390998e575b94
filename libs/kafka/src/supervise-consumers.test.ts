import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { KauditError } from '@kaudit/errors';
import { createLogger, createTelemetry } from '@kaudit/logging';
import { superviseConsumers } from './supervise-consumers.js';
import type { BatchConsumer, ConsumerCrash, ConsumerOptions, KafkaClient } from './types.js';

/** A client that makes no connection: it keeps the options each consumer was made with, to play its crashes. */
function offlineClient(made: ConsumerOptions[]): KafkaClient {
  const consumer: BatchConsumer = { start: async () => undefined, stop: async () => undefined, waitForAssignment: async () => undefined };
  return {
    producer: () => ({ start: async () => undefined, stop: async () => undefined, send: async () => [] }),
    admin: () => {
      throw new KauditError('INTERNAL', 'not in this test');
    },
    warmUpCodecs: async () => ({ requests: 0, records: 0, bytes: 0 }),
    consumer: (options) => (made.push(options), consumer),
  };
}

describe('superviseConsumers', () => {
  it('logs and counts a crash the client restarts; fails the service, once, for one that stopped for good', async () => {
    const lines: Record<string, unknown>[] = [];
    const destination = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), done()) });
    const registry = new Registry();
    const telemetry = createTelemetry(createLogger({ service: 'test', level: 'info', destination }), registry, 'kafka');
    const failures: KauditError[] = [];
    const made: ConsumerOptions[] = [];
    const seenByOwner: ConsumerCrash[] = [];
    const kafka = superviseConsumers(offlineClient(made), { telemetry, failure: { fail: (err) => failures.push(err) } });
    kafka.consumer({ groupId: 'g1', topics: ['t'], onCrash: (crash) => seenByOwner.push(crash) });
    kafka.consumer({ groupId: 'g2', topics: ['t'] });
    const [first, second] = made;

    first?.onCrash?.({ groupId: 'g1', restarting: true, error: new KauditError('KAFKA_UNAVAILABLE', 'connection closed') });
    expect(failures).toEqual([]);
    const refused = new KauditError('KAFKA_REJECTED', 'not authorized', { details: { kafkaError: 'GROUP_AUTHORIZATION_FAILED' } });
    second?.onCrash?.({ groupId: 'g2', restarting: false, error: refused });
    expect(failures).toEqual([refused]);

    expect(seenByOwner.map((c) => c.restarting)).toEqual([true]); // a consumer's own onCrash still hears its crashes
    expect(lines.map((l) => [l.event, l.level, l.groupId, l.code])).toEqual([
      ['consumer_crashed', 40, 'g1', 'KAFKA_UNAVAILABLE'],
      ['consumer_crashed_for_good', 50, 'g2', 'KAFKA_REJECTED'],
    ]);
    expect(lines[1]).toMatchObject({ kafkaError: 'GROUP_AUTHORIZATION_FAILED' });
    const metrics = await registry.metrics();
    expect(metrics).toContain('kaudit_events_total{component="kafka",event="consumer_crashed"} 1');
    expect(metrics).toContain('kaudit_events_total{component="kafka",event="consumer_crashed_for_good"} 1');
  });
});
