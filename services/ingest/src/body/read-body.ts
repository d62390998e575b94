import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { KauditError } from '@kaudit/errors';

const gunzipAsync = promisify(gunzip);

export interface ReadBody {
  /** The bytes as received (still compressed when gzip): what the DLQ keeps. */
  raw: Buffer;
  /** The bytes to parse. */
  body: Buffer;
}

/**
 * Reads a request body, refusing it with INPUT_TOO_LARGE as soon as more than `maxBytes` arrived, so
 * an oversize body is never buffered whole. The refused error carries the prefix read so far
 * (`details.prefix`) for the DLQ. gzip is inflated with the same cap on the output.
 */
export async function readBody(stream: Readable, options: { maxBytes: number; gzip: boolean }): Promise<ReadBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    size += buf.length;
    if (size > options.maxBytes) {
      chunks.push(buf.subarray(0, buf.length - (size - options.maxBytes)));
      throw new KauditError('INPUT_TOO_LARGE', `body is larger than the limit of ${options.maxBytes} bytes`, {
        details: { problem: 'body-too-large', prefix: Buffer.concat(chunks) },
      });
    }
    chunks.push(buf);
  }
  const raw = Buffer.concat(chunks, size);
  if (!options.gzip) return { raw, body: raw };
  try {
    // maxOutputLength stops inflation at the cap: a gzip bomb costs at most maxBytes of memory.
    return { raw, body: await gunzipAsync(raw, { maxOutputLength: options.maxBytes }) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new KauditError('INPUT_TOO_LARGE', `gzip body inflates past the limit of ${options.maxBytes} bytes`, {
        details: { problem: 'gzip-too-large', prefix: raw },
      });
    }
    throw new KauditError('INPUT_INVALID', `invalid gzip body: ${(err as Error).message}`, { details: { problem: 'invalid-gzip', prefix: raw } });
  }
}
