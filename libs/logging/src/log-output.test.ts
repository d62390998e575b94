import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { isKauditError } from '@kaudit/errors';
import { createLinePrettifier } from './line-prettifier.js';
import { chooseLogOutput } from './log-output.js';
import { createLogger } from './create-logger.js';

function capture(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, stream };
}

describe('chooseLogOutput', () => {
  it('is pretty and coloured on a terminal, JSON on anything else', () => {
    expect(chooseLogOutput({ isTTY: true })).toEqual({ format: 'pretty', colorize: true });
    expect(chooseLogOutput({ isTTY: false })).toEqual({ format: 'json', colorize: false });
    expect(chooseLogOutput({ isTTY: false, requested: 'auto' })).toEqual({ format: 'json', colorize: false });
  });

  it('KAUDIT_LOG_FORMAT forces a format, colours only on a terminal, NO_COLOR turns them off', () => {
    expect(chooseLogOutput({ isTTY: true, requested: 'json' })).toEqual({ format: 'json', colorize: false });
    expect(chooseLogOutput({ isTTY: false, requested: 'pretty' })).toEqual({ format: 'pretty', colorize: false });
    expect(chooseLogOutput({ isTTY: true, noColor: '1' })).toEqual({ format: 'pretty', colorize: false });
    expect(chooseLogOutput({ isTTY: true, noColor: '' })).toEqual({ format: 'pretty', colorize: true });
  });

  it('refuses an unknown format, naming the variable and the choices', () => {
    let caught: unknown;
    try {
      chooseLogOutput({ isTTY: true, requested: 'yaml' });
    } catch (err) {
      caught = err;
    }
    expect(isKauditError(caught) && caught.code).toBe('CONFIG_INVALID');
    expect((caught as Error).message).toBe('KAUDIT_LOG_FORMAT "yaml" must be one of auto, json, pretty');
  });
});

describe('createLogger output', () => {
  it('writes one readable line per event in pretty format, redacted like JSON, coloured only when asked', async () => {
    const plain = capture();
    createLogger({ service: 'ingest', destination: plain.stream, output: { format: 'pretty', colorize: false } }).child({ component: 'http' }).warn({ event: 'batch_rejected', events: 3, token: 'abc' }, 'batch_rejected');
    await new Promise((r) => setImmediate(r));
    expect(plain.lines).toHaveLength(1);
    expect(plain.lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: batch_rejected \{"component":"http","events":3,"token":"\[redacted\]"\}\n$/);

    const coloured = capture();
    createLogger({ service: 'ingest', destination: coloured.stream, output: { format: 'pretty', colorize: true } }).info({ event: 'ready' }, 'ready');
    await new Promise((r) => setImmediate(r));
    expect(coloured.lines[0]).toContain('\x1b[');
  });

  it('stays JSON by default and with the json format', async () => {
    for (const output of [undefined, { format: 'json', colorize: false } as const]) {
      const c = capture();
      createLogger({ service: 'sink', destination: c.stream, ...(output ? { output } : {}) }).info({ event: 'x' }, 'x');
      await new Promise((r) => setImmediate(r));
      expect(JSON.parse(c.lines[0] ?? '')).toMatchObject({ service: 'sink', msg: 'x', level: 30 });
    }
  });
});

describe('createLinePrettifier', () => {
  const pretty = createLinePrettifier({ colorize: false, service: 'alert' });

  it('turns a pino JSON line into a readable one, naming the event when it is not the message', () => {
    const line = JSON.stringify({ level: 50, time: '2026-12-01T10:00:00.000Z', service: 'alert', component: 'router', event: 'delivery_failed', msg: 'notifier down', notifier: 'slack' });
    expect(pretty(line)).toMatch(/^\[\d\d:\d\d:\d\d\.000\] ERROR: notifier down \(delivery_failed\) \{"component":"router","notifier":"slack"\}$/);
  });

  it("shows the service only when it is not the one the line is known to come from", () => {
    const line = JSON.stringify({ level: 30, time: '2026-12-01T10:00:00.000Z', service: 'sink', component: 'start', event: 'service_stopped', msg: 'service_stopped' });
    expect(pretty(line)).toMatch(/INFO: service_stopped \{"service":"sink","component":"start"\}$/);
  });

  it('leaves a line that is not JSON as it is', () => {
    expect(pretty('alert: rules/x.yaml:3: unknown field "mach"')).toBe('alert: rules/x.yaml:3: unknown field "mach"');
    expect(pretty('    at Object.<anonymous> (file.js:1:1)')).toBe('    at Object.<anonymous> (file.js:1:1)');
    expect(pretty('{ not json')).toBe('{ not json');
  });
});
