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

export interface ReadBodyOptions {
  maxBytes: number;
  gzip: boolean;
  /** The whole body must have arrived this long after reading began. */
  bodyTimeoutMs: number;
  /** No gap between chunks may be longer than this. */
  idleTimeoutMs: number;
}

/**
 * Reads a request body, refusing it with INPUT_TOO_LARGE as soon as more than `maxBytes` arrived, so
 * an oversize body is never buffered whole. The refused error carries the prefix read so far
 * (`details.prefix`) for the DLQ. gzip is inflated with the same cap on the output.
 *
 * A body that arrives too slowly (slower than `bodyTimeoutMs` overall, or silent for `idleTimeoutMs`)
 * is refused with `details.problem` `body-timeout` / `idle-timeout`: without that, a client trickling a
 * byte a second holds its connection and its share of the in-flight budget for Node's 5-minute
 * requestTimeout. Reading stops; the caller answers 408 and closes the connection.
 */
export function readBody(stream: Readable, options: ReadBodyOptions): Promise<ReadBody> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (outcome: () => void) => {
      clearTimeout(total);
      clearTimeout(idle);
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      // Stop reading but leave the socket open: the caller still has to send its answer.
      stream.pause();
      outcome();
    };
    const timedOut = (problem: 'body-timeout' | 'idle-timeout', message: string) => () =>
      finish(() => reject(new KauditError('INPUT_INVALID', `${message} (${size} bytes received); send the body without pauses`, { details: { problem, prefix: Buffer.concat(chunks, size) } })));
    const onIdle = timedOut('idle-timeout', `no body bytes for ${options.idleTimeoutMs} ms`);
    const total = setTimeout(timedOut('body-timeout', `request body not complete within ${options.bodyTimeoutMs} ms`), options.bodyTimeoutMs);
    const idle = setTimeout(onIdle, options.idleTimeoutMs);
    const onData = (chunk: Buffer | string) => {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
      idle.refresh();
      size += buf.length;
      if (size > options.maxBytes) {
        chunks.push(buf.subarray(0, buf.length - (size - options.maxBytes)));
        finish(() =>
          reject(new KauditError('INPUT_TOO_LARGE', `body is larger than the limit of ${options.maxBytes} bytes`, { details: { problem: 'body-too-large', prefix: Buffer.concat(chunks) } })),
        );
        return;
      }
      chunks.push(buf);
    };
    const onEnd = () => finish(() => resolve(Buffer.concat(chunks, size)));
    const onError = (err: Error) => finish(() => reject(err));
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
  }).then(async (raw) => {
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
      // zlib's messages name the failure (e.g. "incorrect header check"), never the data.
      throw new KauditError('INPUT_INVALID', `invalid gzip body: ${(err as Error).message}`, { details: { problem: 'invalid-gzip', prefix: raw } });
    }
  });
}
