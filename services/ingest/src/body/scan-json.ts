const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const ITEMS_KEY = Buffer.from('"items"');
/** A key spelled with escapes (`"\u0069tems"`) longer than this cannot be `items`, however written. */
const MAX_ESCAPED_ITEMS_KEY_BYTES = 64;

export interface JsonScan {
  /** Nesting went past the limit (scanning stopped there). */
  tooDeep: boolean;
  /**
   * Byte ranges [start, end) of the object elements of the top-level `items` array, by element
   * index (undefined for non-object elements), so each event can be published as the bytes the
   * apiserver sent instead of a re-serialisation (which would also round integers beyond 2^53).
   */
  items: ([number, number] | undefined)[];
  /**
   * How many top-level keys are `items`, however spelled: JSON.parse keeps the last of repeated keys
   * and reads `"\u0069tems"` as `items`, so a body with two is ambiguous (validate one array, publish
   * another) and is refused by the caller.
   */
  itemsKeys: number;
}

/** Whether the JSON string token bytes[start..end] (quotes included) is the key `items`. */
function isItemsKey(bytes: Uint8Array, start: number, end: number): boolean {
  const length = end - start + 1;
  if (length === ITEMS_KEY.length) return ITEMS_KEY.equals(bytes.subarray(start, end + 1));
  if (length > MAX_ESCAPED_ITEMS_KEY_BYTES || bytes.subarray(start, end + 1).indexOf(BACKSLASH) === -1) return false;
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + start, length).toString('utf8')) === 'items';
  } catch {
    return false;
  }
}

/**
 * One pass over JSON bytes (UTF-8 structural characters never occur inside multi-byte sequences):
 * the nesting depth, checked before JSON.parse so a hostile `[[[[…` cannot exhaust the stack later,
 * and where each element of the top-level `items` array starts and ends. Assumes nothing about
 * validity: JSON.parse still decides that; callers fall back to re-serialising if the scan disagrees.
 */
export function scanJson(bytes: Uint8Array, maxDepth: number): JsonScan {
  let depth = 0;
  let items: ([number, number] | undefined)[] = [];
  let inItems = false;
  let afterItemsKey = false;
  let index = 0;
  let elementStart = -1;
  let itemsKeys = 0;
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i] as number;
    if (c === QUOTE) {
      const start = i;
      // Jump to the closing quote natively (most of an audit event is string content); a quote
      // preceded by an odd number of backslashes is escaped, so keep looking.
      for (;;) {
        const end = buffer.indexOf(QUOTE, i + 1);
        if (end === -1) {
          i = bytes.length;
          break;
        }
        let slashes = 0;
        while (bytes[end - 1 - slashes] === BACKSLASH) slashes++;
        i = end;
        if (slashes % 2 === 0) break;
      }
      afterItemsKey = depth === 1 && isItemsKey(bytes, start, i);
      continue;
    }
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (c === OPEN_ARRAY && depth === 1 && afterItemsKey) {
        // A repeated "items" key: JSON.parse keeps the last one, and so do we.
        inItems = true;
        items = [];
        index = 0;
      } else if (c === OPEN_OBJECT && inItems && depth === 2) elementStart = i;
      if (++depth > maxDepth) return { tooDeep: true, items: [], itemsKeys };
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--;
      if (inItems && depth === 2 && c === CLOSE_OBJECT && elementStart >= 0) {
        items[index] = [elementStart, i + 1];
        elementStart = -1;
      } else if (inItems && depth === 1) inItems = false;
    } else if (c === COMMA && inItems && depth === 2) index++;
    if (c === COLON && afterItemsKey) itemsKeys++;
    else if (c !== COLON) afterItemsKey = afterItemsKey && c <= 0x20;
  }
  return { tooDeep: false, items, itemsKeys };
}
