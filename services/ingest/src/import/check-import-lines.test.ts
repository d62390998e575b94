import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { eventBuffer } from '../body/body-checker.js';
import { sampleAuditEvent, sampleEventList } from '../fixtures/sample-audit-event.js';
import { checkImportLines } from './check-import-lines.js';
import { wholeLineChunks } from './whole-line-chunks.js';

// The fixtures' events carry fixed dates (2026-11-22): a ten-year retention keeps them accepted for years.
const task = (text: string | Buffer) => ({ chunk: Buffer.from(text), format: 'auto' as const, maxEventBytes: 256 * 1024, receivedAtMs: Date.now(), window: { retentionDays: 3650, maxFutureSkewMs: 900_000 } });

describe('checkImportLines', () => {
  it('numbers non-blank lines as records, publishes an apiserver line as its own bytes, and keeps a bad line for the DLQ', () => {
    const [a, b, c] = [1, 2, 3].map((n) => JSON.stringify(sampleAuditEvent(n)));
    const list = JSON.stringify(sampleEventList([sampleAuditEvent(4), sampleAuditEvent(5)]));
    const text = `${a}\r\n\n  \n${b}\n{"kind":"Eve\n${list}\n${c}`;
    const chunk = Buffer.from(text);
    const checked = checkImportLines(task(chunk));
    expect(checked.records).toBe(5);
    expect(checked.eventRecords).toEqual([1, 2, 4, 4, 5]);
    expect(checked.failed).toEqual([{ record: 3, reason: expect.stringContaining('line is not JSON') as unknown, value: { span: expect.any(Array) as unknown } }]);
    expect(eventBuffer(chunk, checked.failed[0]!.value).toString()).toBe('{"kind":"Eve');
    const values = checked.accepted.map((e) => eventBuffer(chunk, e.value).toString());
    // Lines that are one Event: their bytes (without the CR); EventList items: serialised on their own.
    expect([values[0], values[1], values[4]]).toEqual([a, b, c]);
    expect(checked.accepted.map((e) => 'span' in e.value)).toEqual([true, true, false, false, true]);
    expect(JSON.parse(values[2]!)).toMatchObject({ auditID: sampleAuditEvent(4).auditID });
  });

  it('does not publish the bytes of a line that is not UTF-8 as they are', () => {
    const line = Buffer.concat([Buffer.from(JSON.stringify(sampleAuditEvent(7, { userAgent: 'ua-' })).replace('"ua-"', '"ua-\u0000"')), Buffer.from('\n')]);
    const nul = line.indexOf(0);
    line[nul] = 0xff; // a byte that never occurs in UTF-8, inside the userAgent string
    const checked = checkImportLines(task(line));
    expect(checked.accepted).toHaveLength(1);
    expect('bytes' in checked.accepted[0]!.value).toBe(true);
    expect((JSON.parse(eventBuffer(line, checked.accepted[0]!.value).toString()) as { userAgent: string }).userAgent).toBe('ua-\uFFFD');
  });
});

describe('wholeLineChunks', () => {
  it('cuts only after newlines and keeps every byte, the unterminated last line included', async () => {
    const text = Buffer.from(Array.from({ length: 300 }, (_, i) => 'x'.repeat(i * 3)).join('\n'));
    const pieces = Array.from({ length: Math.ceil(text.length / 777) }, (_, i) => text.subarray(i * 777, (i + 1) * 777));
    const chunks: Buffer[] = [];
    for await (const c of wholeLineChunks(Readable.from(pieces), 4096)) chunks.push(c);
    expect(chunks.length).toBeGreaterThan(10);
    expect(Buffer.concat(chunks).equals(text)).toBe(true);
    for (const c of chunks.slice(0, -1)) expect(c.at(-1)).toBe(0x0a);
    expect(chunks.at(-1)?.at(-1)).not.toBe(0x0a);
  });
});
