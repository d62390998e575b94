import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createLogger } from './create-logger.js';
import { createTelemetry } from './telemetry.js';

function capture(): { lines: Record<string, unknown>[]; stream: Writable } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, stream };
}

describe('telemetry', () => {
  it('logs with service/component fields and counts the same event', async () => {
    const { lines, stream } = capture();
    const registry = new Registry();
    const logger = createLogger({ service: 'ingest', destination: stream });
    const t = createTelemetry(logger, registry, 'http');
    t.emit({ event: 'batch_accepted', fields: { events: 3 } });
    t.child('producer').emit({ event: 'batch_accepted', level: 'warn' });
    await new Promise((r) => setImmediate(r));
    expect(lines[0]).toMatchObject({ service: 'ingest', component: 'http', event: 'batch_accepted', msg: 'batch_accepted', events: 3 });
    expect(lines[1]).toMatchObject({ component: 'producer', level: 40 });
    const metrics = await registry.getMetricsAsJSON();
    const values = metrics.find((m) => m.name === 'kaudit_events_total')?.values ?? [];
    expect(values).toHaveLength(2);
  });

  it('redacts secrets in logged objects', async () => {
    const { lines, stream } = capture();
    createLogger({ service: 's', destination: stream }).info({ token: 'abc', nested: { password: 'p' } }, 'x');
    await new Promise((r) => setImmediate(r));
    expect(JSON.stringify(lines[0])).not.toContain('abc');
    expect(JSON.stringify(lines[0])).not.toMatch(/"p"/);
  });
});
