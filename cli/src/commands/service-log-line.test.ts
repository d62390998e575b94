import { describe, expect, it } from 'vitest';
import { serviceLogLine } from './service-log-line.js';

const json = JSON.stringify({ level: 30, time: '2026-12-01T10:00:00.000Z', service: 'sink', component: 'consumer', event: 'consumer_resumed', msg: 'consumer_resumed' });

describe('serviceLogLine', () => {
  it('passes JSON through with a plain prefix when the output is not a terminal', () => {
    expect(serviceLogLine('sink', 2, { format: 'json', colorize: false })(json)).toEqual([`sink   | ${json}`]);
  });

  it('makes the line readable and colours the name on a terminal', () => {
    const [line, ...rest] = serviceLogLine('sink', 2, { format: 'pretty', colorize: true })(json);
    expect(rest).toEqual([]);
    expect(line?.startsWith('\x1b[33msink  \x1b[0m | ')).toBe(true);
    expect(line).toContain('consumer_resumed');
    expect(line).not.toContain('"level":30');
  });

  it('prefixes every line of a multi-line pretty entry, and non-JSON lines as they are', () => {
    const err = JSON.stringify({ level: 50, time: '2026-12-01T10:00:00.000Z', msg: 'startup_failed', err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at main.ts:1:1' } });
    const lines = serviceLogLine('ingest', 0, { format: 'pretty', colorize: false })(err);
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect(l.startsWith('ingest | ')).toBe(true);
    expect(lines.join('\n')).toContain('at main.ts:1:1');
    expect(serviceLogLine('alert', 3, { format: 'pretty', colorize: false })('alert: rules/x.yaml:3: bad')).toEqual(['alert  | alert: rules/x.yaml:3: bad']);
  });
});
