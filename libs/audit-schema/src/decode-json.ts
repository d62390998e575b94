import jsonc from 'jsonc-parser';

/** Why bytes could not be read as JSON; the ingest body `problem` and the DLQ `stage` use the same words. */
export type JsonProblem = 'invalid-utf8' | 'malformed-json';

export type DecodedJson = { ok: true; value: unknown } | { ok: false; problem: JsonProblem; message: string };

const UTF8_BOM = [0xef, 0xbb, 0xbf] as const;

/** Bytes without a leading UTF-8 byte order mark (RFC 8259 §8.1: a parser may ignore it, and we do, everywhere). */
export function withoutBom<T extends Uint8Array>(bytes: T): T {
  return bytes[0] === UTF8_BOM[0] && bytes[1] === UTF8_BOM[1] && bytes[2] === UTF8_BOM[2] ? (bytes.subarray(3) as T) : bytes;
}

/**
 * Where and why `text` is not JSON, without quoting it: Node's JSON.parse messages embed a snippet of
 * the input (`Unexpected token 's', "{"password": s"... is not valid JSON`), and a body may carry a
 * Secret, so that message must never reach a log line, an HTTP answer or a DLQ header (issue 11).
 * The position comes from jsonc-parser's error list (strict mode: no comments, no trailing commas);
 * only the failure path pays for this second parse.
 */
export function describeJsonSyntaxError(text: string): string {
  const errors: jsonc.ParseError[] = [];
  jsonc.parse(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const first = errors[0];
  if (first === undefined) return 'malformed JSON';
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < first.offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return `malformed JSON at position ${first.offset} (line ${line}, column ${first.offset - lineStart + 1}): ${jsonc.printParseErrorCode(first.error)}`;
}

/** Strict UTF-8 text of `bytes` (a leading BOM dropped), or undefined when a sequence is invalid. */
export function decodeUtf8Strict(bytes: Uint8Array): string | undefined {
  try {
    // ignoreBOM: false (the default) drops a leading BOM; fatal refuses what would become U+FFFD.
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * The one way kaudit reads JSON bytes from outside (webhook bodies at ingest, raw records at enrich):
 * strict UTF-8, a leading BOM ignored, JSON.parse — so ingest and enrich can never disagree on what a
 * byte sequence means. Failure messages name the problem and position, never the content.
 */
export function decodeJson(bytes: Uint8Array): DecodedJson {
  const text = decodeUtf8Strict(bytes);
  if (text === undefined) return { ok: false, problem: 'invalid-utf8', message: 'not valid UTF-8' };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, problem: 'malformed-json', message: describeJsonSyntaxError(text) };
  }
}
