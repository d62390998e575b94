import type avro from 'avsc';

/** Buffer's own UTF-8 writer, which Buffer#write calls after checking its arguments (avsc calls it directly too). */
interface NodeBuffer extends Buffer {
  utf8Write(s: string, offset: number, length: number): number;
}

// The helpers and the generated code take the buffer and the position to write at, and return the position
// after what they wrote. Bytes past the end of the buffer are dropped by the typed array (or skipped, as avsc
// does); the caller sees a position beyond the end and retries with a bigger buffer.

/** avsc's bound for a long it accepts (isSafeLong in avsc's types.js). */
const MAX_SAFE_LONG = 9007199254740990;

/** avsc writes strings of at most this many bytes with its own loop, longer ones with utf8Write (see writeStringAsAvsc). */
const AVSC_SHORT_STRING_BYTES = 64;

/** Zig-zag varint, exactly as avsc's Tap#writeLong: integer arithmetic within ±2^30, floating point beyond. */
function writeLong(buf: NodeBuffer, pos: number, n: number): number {
  if (n >= -1073741824 && n < 1073741824) {
    let m = n >= 0 ? n << 1 : (~n << 1) | 1;
    while (m > 0x7f) {
      buf[pos++] = (m & 0x7f) | 0x80;
      m >>= 7;
    }
    buf[pos++] = m;
    return pos;
  }
  let f = n >= 0 ? n * 2 : -n * 2 - 1;
  while (f >= 128) {
    // f & 0x7f: the low 7 bits of the integer part (f / 128 stays exact: a power of two).
    buf[pos++] = (f & 0x7f) | 0x80;
    f /= 128;
  }
  buf[pos++] = f & 0x7f;
  return pos;
}

/** Bytes of the zig-zag varint of a non-negative length below 2^30. */
function varintBytes(len: number): number {
  let m = len << 1;
  let k = 1;
  while (m > 0x7f) {
    m >>= 7;
    k++;
  }
  return k;
}

/**
 * A string as avsc writes it: its UTF-8 byte length, then its bytes. Most strings of an audit record are short
 * ASCII (cluster, verb, resource, names, groups): those are copied by a loop here, which also tells their length,
 * instead of measuring them in C++ first (Buffer.byteLength) as avsc does for every string (issue 16).
 */
function writeString(buf: NodeBuffer, pos: number, s: string): number {
  const n = s.length;
  if (n < AVSC_SHORT_STRING_BYTES) {
    // If all ASCII, its byte length is n < 64, whose zig-zag varint is the single byte 2n: copy it after that byte.
    let p = pos + 1;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) break;
      buf[p++] = c;
    }
    if (i === n) {
      buf[pos] = n << 1;
      return p;
    }
    return writeStringAsAvsc(buf, pos, s);
  }
  // At least 64 characters, so more than 64 bytes: avsc writes them with utf8Write. They take at most 3 bytes
  // a character; when that fits, write them once after room for the longest length varint and measure what
  // was written, instead of measuring the string first.
  const room = varintBytes(3 * n);
  if (n > 0x0fffffff || pos + room + 3 * n > buf.length) return writeStringAsAvsc(buf, pos, s);
  const len = buf.utf8Write(s, pos + room, 3 * n);
  const size = varintBytes(len);
  if (size < room) buf.copyWithin(pos + size, pos + room, pos + room + len);
  return writeLong(buf, pos, len) + len;
}

/**
 * avsc's Tap#writeString. Strings up to 64 bytes go through avsc's own encoding loop, which writes a lone
 * surrogate as its 3-byte form where utf8Write (used beyond 64 bytes) writes U+FFFD: both are reproduced, so the
 * bytes are avsc's even for malformed UTF-16.
 */
function writeStringAsAvsc(buf: NodeBuffer, at: number, s: string): number {
  const len = Buffer.byteLength(s);
  let pos = writeLong(buf, at, len);
  const end = pos + len;
  if (end > buf.length) return end; // does not fit: the caller retries with a bigger buffer
  if (len > AVSC_SHORT_STRING_BYTES) {
    buf.utf8Write(s, pos, len);
    return end;
  }
  for (let i = 0; i < s.length; i++) {
    let c1 = s.charCodeAt(i);
    let c2: number;
    if (c1 < 0x80) {
      buf[pos++] = c1;
    } else if (c1 < 0x800) {
      buf[pos++] = (c1 >> 6) | 0xc0;
      buf[pos++] = (c1 & 0x3f) | 0x80;
    } else if ((c1 & 0xfc00) === 0xd800 && ((c2 = s.charCodeAt(i + 1)) & 0xfc00) === 0xdc00) {
      c1 = 0x10000 + ((c1 & 0x03ff) << 10) + (c2 & 0x03ff);
      i++;
      buf[pos++] = (c1 >> 18) | 0xf0;
      buf[pos++] = ((c1 >> 12) & 0x3f) | 0x80;
      buf[pos++] = ((c1 >> 6) & 0x3f) | 0x80;
      buf[pos++] = (c1 & 0x3f) | 0x80;
    } else {
      buf[pos++] = (c1 >> 12) | 0xe0;
      buf[pos++] = ((c1 >> 6) & 0x3f) | 0x80;
      buf[pos++] = (c1 & 0x3f) | 0x80;
    }
  }
  return end;
}

function writeDouble(buf: NodeBuffer, pos: number, d: number): number {
  if (pos + 8 <= buf.length) buf.writeDoubleLE(d, pos); // avsc skips it too when it does not fit
  return pos + 8;
}

/** Bytes written as they are: a field's default, precomputed by avsc (as avsc's record writer does). */
function writeBytes(buf: NodeBuffer, pos: number, bytes: Buffer): number {
  if (pos + bytes.length <= buf.length) bytes.copy(buf, pos);
  return pos + bytes.length;
}

/** Thrown by generated code for a value it does not handle; the caller then lets avsc encode it (or reject it). */
const DECLINE: unique symbol = Symbol('decline');

const HELPERS = { DECLINE, MAX_SAFE_LONG, writeLong, writeString, writeDouble, writeBytes, isBuffer: Buffer.isBuffer };

class Unsupported extends Error {}

/** avsc's Type#encode: the end position, or when `buf` is too small the negative number of bytes missing. */
export type AvroWriter = (value: unknown, buf: Buffer, pos: number) => number;

/**
 * Compiles an encoder for `type` with the contract of avsc's `type.encode(value, buf, pos)` and its exact bytes,
 * in a function generated for this schema: avsc's generic writer dispatches through a type object per value and
 * measures every string in C++ first (issue 16). Supports what kaudit's schemas use — records, arrays, maps,
 * unions of null and one type, null/boolean/int/long/double/string — and returns undefined for any other type.
 * A value the generated code does not recognise as valid (wrong type, unsafe long, missing field, …) is handed
 * to avsc itself, so what avsc would write or throw for it is what the caller gets: the generated code only ever
 * takes the values it is sure to write exactly as avsc does.
 */
export function compileAvroWriter(type: avro.Type): AvroWriter | undefined {
  const functions: string[] = [];
  const compiled = new Map<string, string>();
  const defaults: Buffer[] = [];
  let locals = 0;
  const local = (): string => `x${locals++}`;

  /** Statements writing the value held in local `x` as type `w`, or throwing h.DECLINE for one they do not take. */
  function write(w: avro.Type, x: string): string {
    switch (w.typeName) {
      case 'null':
        return `if (${x} !== null) throw h.DECLINE;`;
      case 'boolean':
        return `if (typeof ${x} !== 'boolean') throw h.DECLINE;\nbuf[pos++] = ${x} ? 1 : 0;`;
      case 'int':
        return `if (${x} !== (${x} | 0)) throw h.DECLINE;\npos = h.writeLong(buf, pos, ${x});`;
      case 'long':
        // avsc's check (a number, \`% 1\` zero, within its safe bound), with Math.floor: \`% 1\` of a double is a C call.
        return `if (typeof ${x} !== 'number' || Math.floor(${x}) !== ${x} || !(${x} >= -h.MAX_SAFE_LONG && ${x} <= h.MAX_SAFE_LONG)) throw h.DECLINE;\npos = h.writeLong(buf, pos, ${x});`;
      case 'double':
        return `if (typeof ${x} !== 'number') throw h.DECLINE;\npos = h.writeDouble(buf, pos, ${x});`;
      case 'string':
        return `if (typeof ${x} !== 'string') throw h.DECLINE;\npos = h.writeString(buf, pos, ${x});`;
      case 'array': {
        const n = local();
        const i = local();
        const item = local();
        // avsc's ArrayType#_write: one block of all items.
        return `if (!Array.isArray(${x})) throw h.DECLINE;
const ${n} = ${x}.length;
if (${n} !== 0) {
  pos = h.writeLong(buf, pos, ${n});
  for (let ${i} = 0; ${i} < ${n}; ${i}++) {
    const ${item} = ${x}[${i}];
    ${indent(write((w as avro.types.ArrayType).itemsType, item), 4)}
  }
}
buf[pos++] = 0;`;
      }
      case 'map': {
        const keys = local();
        const i = local();
        const key = local();
        const value = local();
        // avsc's MapType#_write: own enumerable keys in Object.keys order, one block.
        return `if (!${x} || typeof ${x} !== 'object' || Array.isArray(${x})) throw h.DECLINE;
const ${keys} = Object.keys(${x});
if (${keys}.length !== 0) {
  pos = h.writeLong(buf, pos, ${keys}.length);
  for (let ${i} = 0; ${i} < ${keys}.length; ${i}++) {
    const ${key} = ${keys}[${i}];
    pos = h.writeString(buf, pos, ${key});
    const ${value} = ${x}[${key}];
    ${indent(write((w as avro.types.MapType).valuesType, value), 4)}
  }
}
buf[pos++] = 0;`;
      }
      case 'union:unwrapped': {
        const branches = (w as avro.types.UnwrappedUnionType).types;
        const nullIndex = branches.findIndex((b) => b.typeName === 'null');
        const other = branches[1 - nullIndex];
        if (branches.length !== 2 || nullIndex < 0 || other === undefined || other.typeName === 'null') throw new Unsupported();
        // The branch avsc would pick for a non-null value (its "bucket"): a record or map takes only objects that
        // are neither arrays nor Buffers; other branches check their own type below.
        const bucket = other.typeName === 'record' || other.typeName === 'map' ? `if (typeof ${x} !== 'object' || Array.isArray(${x}) || h.isBuffer(${x})) throw h.DECLINE;\n` : '';
        // Index 0 or 1, zig-zag encoded: one byte, 0 or 2.
        return `if (${x} === null) {
  buf[pos++] = ${nullIndex * 2};
} else {
  ${indent(bucket, 2)}buf[pos++] = ${(1 - nullIndex) * 2};
  ${indent(write(other, x), 2)}
}`;
      }
      case 'record':
        return `if (${x} === null || typeof ${x} !== 'object') throw h.DECLINE;\npos = ${recordFunction(w as avro.types.RecordType)}(buf, pos, ${x});`;
      default:
        throw new Unsupported();
    }
  }

  /** Name of a generated function writing a record of type `w`, fields in schema order. */
  function recordFunction(w: avro.types.RecordType): string {
    const key = `${w.name ?? ''}|${w.fingerprint('sha256').toString('hex')}`;
    const known = compiled.get(key);
    if (known !== undefined) return known;
    const name = `r${compiled.size}`;
    compiled.set(key, name);
    const body = w.fields.map((field) => {
      const x = local();
      const read = `const ${x} = v[${JSON.stringify(field.name)}];`;
      const value = field.defaultValue() as unknown;
      // avsc's record writer: an undefined field with a default is written as that default.
      if (value === undefined) return `${read}\n${write(field.type, x)}`;
      defaults.push(field.type.toBuffer(value));
      return `${read}\nif (${x} === undefined) {\n  pos = h.writeBytes(buf, pos, d[${defaults.length - 1}]);\n} else {\n  ${indent(write(field.type, x), 2)}\n}`;
    });
    functions.push(`function ${name}(buf, pos, v) {\n  ${indent(body.join('\n'), 2)}\n  return pos;\n}`);
    return name;
  }

  let top: string;
  try {
    top = write(type, 'value');
  } catch (err) {
    if (err instanceof Unsupported) return undefined;
    throw err;
  }
  const source = `${functions.join('\n')}
function writeValue(buf, pos, value) {
  ${indent(top, 2)}
  return pos;
}
return function encode(value, buf, pos) {
  let end;
  try {
    end = writeValue(buf, pos, value);
  } catch (err) {
    // Whatever the generated code does not take (or trips over), avsc writes or rejects with its own error.
    return type.encode(value, buf, pos);
  }
  return end <= buf.length ? end : buf.length - end;
};`;
  // Generated once per schema at start-up from our own schema files (as avsc itself generates its writers).
  return new Function('h', 'd', 'type', source)(HELPERS, defaults, type) as AvroWriter;
}

function indent(code: string, spaces: number): string {
  return code.replace(/\n/g, `\n${' '.repeat(spaces)}`);
}
