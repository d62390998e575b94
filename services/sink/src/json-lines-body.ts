/** UTF-8 takes at most 3 bytes per UTF-16 code unit (a surrogate pair is 2 units and 4 bytes). */
const MAX_UTF8_BYTES_PER_UNIT = 3;

/**
 * An insert's JSONEachRow body as byte chunks of about `chunkBytes` each: every line's text is encoded straight into
 * the chunk it ends in, and a chunk, once yielded, is never written again (the socket may still hold it).
 *
 * Why not a string per chunk (`chunk += line`): that builds a tree of concatenations the stream must flatten into one
 * flat string and then encode into a Buffer again — two copies of every body byte, and a 256 KiB string per chunk
 * for the garbage collector; the sink spent more CPU on that than on JSON.stringify (issue 16). A line is written
 * once, by Buffer#write, into memory the request sends as it is.
 *
 * `lines` yields one row's text each (without the newline). An error it throws propagates unchanged.
 */
export function* jsonLinesBody(lines: Iterable<string>, chunkBytes: number): Generator<Buffer> {
  let chunk = Buffer.allocUnsafeSlow(chunkBytes);
  let used = 0;
  for (const line of lines) {
    const worst = line.length * MAX_UTF8_BYTES_PER_UNIT + 1;
    if (used + worst > chunk.length) {
      if (used > 0) yield chunk.subarray(0, used);
      chunk = Buffer.allocUnsafeSlow(Math.max(chunkBytes, worst));
      used = 0;
    }
    used += chunk.write(line, used);
    chunk[used++] = 0x0a;
  }
  if (used > 0) yield chunk.subarray(0, used);
}
