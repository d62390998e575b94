/**
 * The input cut into chunks of whole lines of about `chunkBytes` (a line longer than that is one chunk), the
 * last one whatever follows the last newline: a file need not end with one.
 */
export async function* wholeLineChunks(input: AsyncIterable<Buffer>, chunkBytes: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let size = 0;
  for await (const data of input) {
    parts.push(data);
    size += data.length;
    if (size < chunkBytes) continue;
    const pending = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, size);
    const cut = pending.lastIndexOf(0x0a) + 1;
    // No newline yet: one long line, keep reading it.
    if (cut === 0) {
      parts = [pending];
      continue;
    }
    yield pending.subarray(0, cut);
    parts = cut < pending.length ? [pending.subarray(cut)] : [];
    size = pending.length - cut;
  }
  if (size > 0) yield parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, size);
}
