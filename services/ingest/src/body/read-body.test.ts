import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readBody } from './read-body.js';

const reading = { maxBytes: 1024 * 1024, bodyTimeoutMs: 10_000, idleTimeoutMs: 10_000 };
const text = '{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[]}';
/** The body in chunks of 7 bytes, as a socket may deliver it. */
const chunked = (bytes: Buffer) => Readable.from(Array.from({ length: Math.ceil(bytes.length / 7) }, (_, i) => bytes.subarray(i * 7, i * 7 + 7)));

describe('readBody', () => {
  it('gathers the body in shared memory when asked, byte for byte, for a parse worker to read without a copy', async () => {
    const { raw, body } = await readBody(chunked(Buffer.from(text)), { ...reading, gzip: false, shared: true });
    expect(body.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(body.toString()).toBe(text);
    expect(raw).toBe(body);
  });

  it('keeps ordinary memory otherwise, and for gzip (whose body is the inflated output)', async () => {
    const plain = await readBody(chunked(Buffer.from(text)), { ...reading, gzip: false });
    expect(plain.body.buffer).not.toBeInstanceOf(SharedArrayBuffer);
    expect(plain.body.toString()).toBe(text);
    const gz = gzipSync(text);
    const inflated = await readBody(chunked(gz), { ...reading, gzip: true, shared: true });
    expect(inflated.body.toString()).toBe(text);
    expect(inflated.raw.equals(gz)).toBe(true);
  });
});
