import type avro from 'avsc';

/** Buffer's own slicers, which Buffer#toString calls after checking its arguments (avsc calls them directly too). */
interface NodeBuffer extends Buffer {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
}

/** Strings up to this many bytes are looked up in the reader's string table (see readString). */
const SHORT_STRING = 32;
const STRING_TABLE_SIZE = 4096;

/** Where a generated reader is in the bytes it decodes, and its table of recently read short strings. */
interface Tap {
  buf: NodeBuffer;
  pos: number;
  /** Indexed by a hash of the string's bytes; '' where nothing was read yet. */
  readonly strings: string[];
}

/** avsc's bound for a long it returns as a number (beyond it, precision could be lost and it throws). */
const MAX_SAFE_LONG = 9007199254740990;


/** Zig-zag varint, as avsc reads it: exact up to 2^53, 'potential precision loss' beyond (avsc's own message). */
function readLong(t: Tap): number {
  const buf = t.buf;
  let pos = t.pos;
  let n = 0;
  let k = 0;
  let b: number;
  do {
    b = buf[pos++] ?? 0;
    n |= (b & 0x7f) << k;
    k += 7;
  } while (b & 0x80 && k < 28);
  if (b & 0x80) {
    // More than 28 bits: continue in floating point (bitwise operators are 32-bit).
    let f = n;
    let fk = 268435456;
    do {
      b = buf[pos++] ?? 0;
      f += (b & 0x7f) * fk;
      fk *= 128;
    } while (b & 0x80);
    t.pos = pos;
    const value = (f % 2 ? -(f + 1) : f) / 2;
    if (value < -MAX_SAFE_LONG || value > MAX_SAFE_LONG) throw new Error('potential precision loss');
    return value;
  }
  t.pos = pos;
  return (n >> 1) ^ -(n & 1);
}

/**
 * Most strings of audit records are short and repeat from record to record (cluster, verb, resource, namespace,
 * user, user agent, groups): a short ASCII string is hashed and compared with the one last read into its slot of
 * the table, and when it matches that string is returned. Creating a string (what avsc does for every string)
 * is a call into C++ that costs more than hashing and comparing a few bytes in JS (issue 16).
 */
function readString(t: Tap): string {
  const len = readLong(t);
  const start = t.pos;
  const end = start + len;
  const buf = t.buf;
  if (len < 0 || end > buf.length) throw new Error('truncated buffer');
  t.pos = end;
  if (len > SHORT_STRING) return buf.utf8Slice(start, end);
  if (len === 0) return '';
  // The slot from a few bytes only (length, ends, middle, quarter): the comparison below checks them all.
  const slot =
    (Math.imul(len ^ ((buf[start] as number) << 8) ^ ((buf[end - 1] as number) << 16) ^ ((buf[start + (len >> 1)] as number) << 24) ^ (buf[start + (len >> 2)] as number), 0x9e3779b1) >>> 20) &
    (STRING_TABLE_SIZE - 1);
  const known = t.strings[slot] as string;
  let i = 0;
  if (known.length === len) {
    while (i < len && known.charCodeAt(i) === buf[start + i]) i++;
    if (i === len) return known;
  }
  // The bytes that matched are ASCII (the table holds only ASCII strings); the rest must be too to use latin1.
  for (; i < len; i++) if ((buf[start + i] as number) > 0x7f) return buf.utf8Slice(start, end);
  // ASCII: latin1 gives the same string, and V8 stores it one byte per character.
  const s = buf.latin1Slice(start, end);
  t.strings[slot] = s;
  return s;
}

function readDouble(t: Tap): number {
  if (t.pos + 8 > t.buf.length) throw new Error('truncated buffer');
  const v = t.buf.readDoubleLE(t.pos);
  t.pos += 8;
  return v;
}

function readBoolean(t: Tap): boolean {
  if (t.pos >= t.buf.length) throw new Error('truncated buffer');
  return t.buf[t.pos++] !== 0;
}

/** A block's item count; a negative count is followed by the block's size in bytes, which we do not need. */
function readBlockCount(t: Tap): number {
  const n = readLong(t);
  if (n >= 0) return n;
  readLong(t);
  return -n;
}

function readUnionIndex(t: Tap, branches: number): number {
  const i = readLong(t);
  if (i < 0 || i >= branches) throw new Error(`invalid union index: ${i}`);
  return i;
}

const HELPERS = { empty: Buffer.alloc(0), readLong, readString, readDouble, readBoolean, readBlockCount, readUnionIndex };

/** The same type in both schemas: same canonical form (names and all), so no resolution is needed. */
function sameType(a: avro.Type, b: avro.Type): boolean {
  return a.fingerprint('sha256').equals(b.fingerprint('sha256'));
}

class Unsupported extends Error {}

/**
 * Compiles a decoder for bytes written with `writer` into values of `reader`'s shape: plain objects and arrays,
 * exactly what avsc's `reader.fromBuffer(bytes, reader.createResolver(writer))` returns field for field, in a
 * function generated for this pair (avsc's generic reader dispatches through a type object per value and a
 * C++ call per string). Supports what kaudit's schemas use — records, arrays, maps, unions of null and one type,
 * null/boolean/int/long/double/string — and resolution by appended reader fields with defaults (how kaudit's
 * schemas grow, CONVENTIONS §12). Any other pair returns undefined: the caller uses avsc's general resolution.
 */
export function compileAvroReader(writer: avro.Type, reader: avro.Type): ((bytes: Buffer) => unknown) | undefined {
  const functions: string[] = [];
  const compiled = new Map<string, string>();

  /** Expression reading one value written as `w`, returned in reader type `r`'s shape (same type, or a record). */
  function expr(w: avro.Type, r: avro.Type): string {
    switch (w.typeName) {
      case 'null':
        if (r.typeName !== 'null') throw new Unsupported();
        return 'null';
      case 'boolean':
      case 'int':
      case 'long':
      case 'double':
      case 'string':
        if (r.typeName !== w.typeName) throw new Unsupported();
        return { boolean: 'h.readBoolean(t)', int: 'h.readLong(t)', long: 'h.readLong(t)', double: 'h.readDouble(t)', string: 'h.readString(t)' }[w.typeName];
      case 'array': {
        if (!sameType(w, r)) throw new Unsupported();
        const item = expr((w as avro.types.ArrayType).itemsType, (r as avro.types.ArrayType).itemsType);
        return `${blocksFunction(w, 'const out = [];', `out.push(${item});`)}(t)`;
      }
      case 'map': {
        if (!sameType(w, r)) throw new Unsupported();
        const value = expr((w as avro.types.MapType).valuesType, (r as avro.types.MapType).valuesType);
        // A plain object assigned key by key, as avsc builds maps.
        return `${blocksFunction(w, 'const out = {};', `const key = h.readString(t);\n      out[key] = ${value};`)}(t)`;
      }
      case 'union:unwrapped': {
        const wb = (w as avro.types.UnwrappedUnionType).types;
        const rb = r.typeName === 'union:unwrapped' ? (r as avro.types.UnwrappedUnionType).types : [];
        if (wb.length !== 2 || rb.length !== 2 || !sameType(w, r)) throw new Unsupported();
        const [w0, w1] = wb as [avro.Type, avro.Type];
        const [r0, r1] = rb as [avro.Type, avro.Type];
        return `(h.readUnionIndex(t, 2) === 0 ? ${expr(w0, r0)} : ${expr(w1, r1)})`;
      }
      case 'record':
        return `${recordFunction(w as avro.types.RecordType, r)}(t)`;
      default:
        throw new Unsupported();
    }
  }

  /** Name of a generated function reading an array or map (blocks of items) of type `w`. */
  function blocksFunction(w: avro.Type, init: string, item: string): string {
    const key = `${w.typeName}|${w.fingerprint('sha256').toString('hex')}`;
    const known = compiled.get(key);
    if (known !== undefined) return known;
    const name = `b${compiled.size}`;
    compiled.set(key, name);
    functions.push(`function ${name}(t) {
  ${init}
  for (let n = h.readBlockCount(t); n !== 0; n = h.readBlockCount(t)) {
    while (n-- > 0) {
      ${item}
      // A corrupt count must not spin: past the end, reads yield zeros without failing.
      if (t.pos > t.buf.length) throw new Error('truncated buffer');
    }
  }
  return out;
}`);
    return name;
  }

  /** Name of a generated function reading a record written as `w` into reader record `r`. */
  function recordFunction(w: avro.types.RecordType, r: avro.Type): string {
    if (r.typeName !== 'record' || r.name !== w.name) throw new Unsupported();
    const rr = r as avro.types.RecordType;
    const key = `${w.name ?? ''}|${w.fingerprint('sha256').toString('hex')}|${rr.fingerprint('sha256').toString('hex')}`;
    const known = compiled.get(key);
    if (known !== undefined) return known;
    const name = `r${compiled.size}`;
    compiled.set(key, name);
    const lines: string[] = [];
    const locals = new Map<string, string>();
    w.fields.forEach((wf, i) => {
      const rf = rr.field(wf.name);
      // A field the reader dropped, or one whose aliases would have to be resolved: leave it to avsc.
      if (rf === undefined) throw new Unsupported();
      lines.push(`const v${i} = ${expr(wf.type, rf.type)};`);
      locals.set(wf.name, `v${i}`);
    });
    const props = rr.fields.map((rf) => {
      const local = locals.get(rf.name);
      if (local !== undefined) return `${JSON.stringify(rf.name)}: ${local}`;
      // A field the writer did not have: its default. Only null is written inline; other defaults go to avsc.
      if (!isNullDefault(rf)) throw new Unsupported();
      return `${JSON.stringify(rf.name)}: null`;
    });
    functions.push(`function ${name}(t) {\n  ${lines.join('\n  ')}\n  return { ${props.join(', ')} };\n}`);
    return name;
  }

  let top: string;
  try {
    top = expr(writer, reader);
  } catch (err) {
    if (err instanceof Unsupported) return undefined;
    throw err;
  }
  // One tap per reader, reused: decoding is synchronous, and the string table must outlive a record.
  const source = `${functions.join('\n')}
const t = { buf: h.empty, pos: 0, strings: new Array(${STRING_TABLE_SIZE}).fill('') };
return function decode(buf) {
  t.buf = buf;
  t.pos = 0;
  try {
    const value = ${top};
    if (t.pos !== buf.length) throw new Error(t.pos > buf.length ? 'truncated buffer' : 'trailing data');
    return value;
  } finally {
    t.buf = h.empty; // not holding on to the caller's bytes
  }
};`;
  // Generated once per schema pair at start-up from our own schema files (as avsc itself generates its readers).
  return new Function('h', source)(HELPERS) as (bytes: Buffer) => unknown;
}

/** The reader field defaults to null (a union whose first branch is null, as kaudit's optional fields are). */
function isNullDefault(field: avro.types.Field): boolean {
  const type = field.type;
  const nullable = type.typeName === 'null' || (type.typeName === 'union:unwrapped' && (type as avro.types.UnwrappedUnionType).types[0]?.typeName === 'null');
  return nullable && field.defaultValue() === null;
}
