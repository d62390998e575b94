/**
 * The generated writer must be indistinguishable from avsc: the same bytes for every value avsc accepts, the
 * same error for every value it rejects, the same answer when the buffer is too small. Proven over generated
 * records (fast-check), with the strings that take different paths in avsc's writer (ASCII, 2-, 3- and 4-byte
 * UTF-8, lone surrogates, around its 64-byte switch, long), extreme longs, every kind of double, nulls, maps,
 * arrays and missing fields with defaults.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AuditRecordCodec } from './audit-record-codec.js';
import { ACTOR_KINDS, OPERATION_CLASSES, PROVIDERS, type AuditRecord } from './audit-record.js';
import { compileAvroWriter } from './compile-avro-writer.js';

/** Fixed, so a failure reproduces; fast-check prints the counterexample. */
const SEED = 20261201;

const schemaOf = (version: number): avro.Type =>
  avro.Type.forSchema(JSON.parse(readFileSync(fileURLToPath(new URL(`../avro/audit-record-v${version}.avsc.json`, import.meta.url)), 'utf8')) as avro.Schema);

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Strings for every path of avsc's string writer; `wellFormed` leaves out lone surrogates (they cannot round-trip). */
function stringArb(wellFormed: boolean): fc.Arbitrary<string> {
  // Lone surrogates (avsc writes them as 3-byte sequences up to 64 bytes, as U+FFFD beyond) are rare in 'binary',
  // so a unit of its own mixes them with the other widths.
  const mixed = fc.constantFrom('a', 'é', '日', '😀', '\ud800', '\udbff', '\udc00', '\udfff');
  type Unit = 'grapheme-ascii' | 'grapheme' | 'grapheme-composite' | 'binary' | fc.Arbitrary<string>;
  const units: Unit[] = ['grapheme-ascii', 'grapheme', 'grapheme-composite', ...(wellFormed ? [] : ['binary' as const, mixed])];
  return fc.oneof(
    { weight: 4, arbitrary: fc.oneof(...units.map((unit) => fc.string({ unit, maxLength: 20 }))) },
    // Around avsc's switch from its own loop to utf8Write (64 bytes) and the one-byte length varint (63).
    { weight: 2, arbitrary: fc.oneof(...units.map((unit) => fc.string({ unit, minLength: 20, maxLength: 70 }))) },
    { weight: 1, arbitrary: fc.constantFrom('', 'a\ud800', '\udc00b', 'x\ud83d', 'a'.repeat(63), 'a'.repeat(64), 'a'.repeat(65), 'é'.repeat(32), 'é'.repeat(33), '😀'.repeat(16), '😀'.repeat(17), '日本語'.repeat(22)).filter((x) => !wellFormed || !LONE_SURROGATE.test(x)) },
    // Long: the varint of the length has 2 or 3 bytes, and past the initial room for it (3 bytes a character).
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('x', 'é', '日', '😀', '\ud800'), fc.integer({ min: 60, max: 5_000 })).filter(([c]) => !wellFormed || !LONE_SURROGATE.test(c)).map(([c, n]) => c.repeat(n)) },
  );
}

const MAX_SAFE_LONG = 9007199254740990;
const longArb = fc.oneof(
  fc.integer(),
  fc.integer({ min: -MAX_SAFE_LONG, max: MAX_SAFE_LONG }),
  fc.constantFrom(0, 1, -1, 63, 64, -64, -65, 2 ** 30 - 1, 2 ** 30, -(2 ** 30), -(2 ** 30) - 1, 2 ** 31, -(2 ** 31), 2 ** 52, -(2 ** 52), MAX_SAFE_LONG, -MAX_SAFE_LONG, 1_763_800_000_000_000),
);
/**
 * Longs that survive avsc's own write → read: below -2^52 the zig-zag value (2|n| - 1) is an odd number beyond
 * 2^53, which a double cannot hold, so avsc writes (and reads back) a neighbour with the sign lost. The writer
 * keeps avsc's bytes there too (longArb above); kaudit's longs are microsecond timestamps, far from it.
 */
const roundTripLongArb = longArb.filter((n) => n >= -(2 ** 52));
const intArb = fc.oneof(fc.integer(), fc.constantFrom(0, -1, 2 ** 31 - 1, -(2 ** 31), 200, 404));

/** AuditRecords as avsc accepts them; `valid` also satisfies the codec's decoder (enums, non-empty ids, finite latency). */
function recordArb(valid: boolean): fc.Arbitrary<AuditRecord> {
  const str = stringArb(valid);
  const nullable = fc.option(str, { nil: null });
  // A map key "__proto__" does not survive decoding (avsc's reader and the compiled one assign keys to a plain
  // object, where it sets the prototype): kept for the byte comparison, left out where records must round-trip.
  const map = fc.dictionary(valid ? str.filter((k) => k !== '__proto__') : str, str, { maxKeys: 6 });
  const strings = fc.array(str, { maxLength: 6 });
  const user = fc.record({ username: nullable, uid: nullable, groups: strings, extra: map });
  const id = valid ? str.filter((s) => s.length > 0) : str;
  const oneOf = <T extends string>(values: readonly T[]): fc.Arbitrary<T> => (valid ? fc.constantFrom(...values) : (str as fc.Arbitrary<T>));
  return fc.record({
    cluster: id,
    provider: oneOf(PROVIDERS),
    auditID: id,
    stage: str,
    level: str,
    requestReceivedUs: valid ? roundTripLongArb : longArb,
    stageUs: valid ? roundTripLongArb : longArb,
    ingestedUs: valid ? roundTripLongArb : longArb,
    latencyMs: valid ? fc.double({ noNaN: true, noDefaultInfinity: true }) : fc.double(),
    verb: str,
    requestURI: str,
    objectRef: fc.record({ apiGroup: nullable, apiVersion: nullable, resource: nullable, subresource: nullable, namespace: nullable, name: nullable, uid: nullable }),
    response: fc.record({ code: fc.option(intArb, { nil: null }), status: nullable, reason: nullable, message: nullable }),
    authorization: fc.record({ decision: nullable, reason: nullable }),
    annotations: map,
    user,
    impersonatedUser: fc.option(user, { nil: null }),
    sourceIPs: strings,
    userAgent: nullable,
    client: fc.record({ name: nullable, version: nullable }),
    actor: fc.record({ id: str, kind: oneOf(ACTOR_KINDS), displayName: str, email: nullable, team: nullable, account: nullable, resolvedBy: str }),
    ownerTeam: nullable,
    operation: oneOf(OPERATION_CLASSES),
    security: fc.record({
      privileged: fc.boolean(),
      hostNetwork: fc.boolean(),
      hostPID: fc.boolean(),
      hostIPC: fc.boolean(),
      hostPaths: strings,
      addedCapabilities: strings,
      images: strings,
      clusterAdminBinding: fc.boolean(),
      wildcardRole: fc.boolean(),
      podExecRole: fc.boolean(),
      credentialLikeKeys: strings,
    }),
    requestObject: nullable,
    responseObject: nullable,
    truncated: fc.boolean(),
    summary: nullable,
  });
}

/** Big enough for any generated record; reused (only the bytes an encode reports as written are compared). */
const ROOMY = Buffer.alloc(8 << 20);

/** What `encode` does with a value: the bytes it wrote, or the message it threw, or how many bytes were missing. */
function outcome(encode: (value: unknown, buf: Buffer, pos: number) => number, value: unknown, size?: number, pos = 0): string {
  const buf = size === undefined ? ROOMY : Buffer.alloc(size);
  try {
    const end = encode(value, buf, pos);
    return end < 0 ? `short by ${-end}` : buf.subarray(pos, end).toString('hex');
  } catch (err) {
    return `threw ${(err as Error).message}`;
  }
}

// Thousands of generated records per property: seconds of CPU, more on a loaded CI machine (timed out at 5 s there).
describe('compileAvroWriter', { timeout: 120_000 }, () => {
  const v2 = schemaOf(2);
  const write = compileAvroWriter(v2);
  const avsc = (value: unknown, buf: Buffer, pos: number): number => v2.encode(value, buf, pos);

  it('writes exactly avsc\'s bytes for generated records: nulls, unions, maps, arrays, any string, extreme longs and doubles', () => {
    expect(write).toBeDefined();
    fc.assert(
      fc.property(recordArb(false), fc.integer({ min: 0, max: 7 }), (record, pos) => {
        const expected = outcome(avsc, record, undefined, pos);
        expect(expected).not.toMatch(/^threw|^short/); // the generator makes only records avsc accepts
        expect(outcome(write ?? avsc, record, undefined, pos)).toBe(expected);
      }),
      { seed: SEED, numRuns: 1500, endOnFailure: true },
    );
  });

  it('answers like avsc when the buffer is too small: the number of bytes missing, and the same bytes once it fits', () => {
    fc.assert(
      fc.property(recordArb(false), fc.double({ min: 0, max: 1, noNaN: true }), (record, fraction) => {
        const size = Math.floor(v2.toBuffer(record).length * fraction);
        expect(outcome(write ?? avsc, record, size)).toBe(outcome(avsc, record, size));
      }),
      { seed: SEED, numRuns: 500, endOnFailure: true },
    );
  });

  it('throws avsc\'s own error for what avsc rejects, and writes defaults for missing fields, one field changed at a time', () => {
    const paths = (value: unknown, prefix: string[] = []): string[][] =>
      value !== null && typeof value === 'object' && !Array.isArray(value) ? Object.entries(value).flatMap(([k, v]) => [[...prefix, k], ...paths(v, [...prefix, k])]) : [];
    const strange = fc.oneof(fc.anything(), fc.constantFrom(undefined, null, NaN, Infinity, 1.5, -0, 2 ** 53, '', [], {}, Buffer.from('x'), [1], ['a', 2], { a: 1 }, true));
    let rejected = 0;
    let accepted = 0;
    fc.assert(
      fc.property(recordArb(true), fc.nat(), strange, (record, pick, value) => {
        const all = paths(record);
        const path = all[pick % all.length] as string[];
        const mutated = structuredClone(record) as Record<string, unknown>;
        let at = mutated;
        for (const k of path.slice(0, -1)) at = at[k] as Record<string, unknown>;
        if (value === undefined) delete at[path[path.length - 1] as string];
        else at[path[path.length - 1] as string] = value;
        const expected = outcome(avsc, mutated);
        if (expected.startsWith('threw')) rejected++;
        else accepted++;
        expect({ path: path.join('.'), outcome: outcome(write ?? avsc, mutated) }).toEqual({ path: path.join('.'), outcome: expected });
      }),
      { seed: SEED, numRuns: 1500, endOnFailure: true },
    );
    // Both sides were exercised: values avsc rejects, and changed values it still writes (defaults, other branches).
    expect(rejected).toBeGreaterThan(300);
    expect(accepted).toBeGreaterThan(100);
  });

  it('through the codec: the bytes avsc writes, decoded back to the same record, never overwritten by a later encode', () => {
    const codec = new AuditRecordCodec();
    const returned: { bytes: Buffer; hex: string }[] = [];
    fc.assert(
      fc.property(recordArb(true), (record) => {
        const bytes = codec.encode(record);
        const hex = v2.toBuffer(record).toString('hex');
        expect(bytes.toString('hex')).toBe(hex);
        expect(codec.decode(bytes, codec.fingerprint)).toEqual(record);
        returned.push({ bytes, hex });
      }),
      { seed: SEED, numRuns: 1000, endOnFailure: true },
    );
    // encode writes each record after the previous one in a shared slab (and starts new ones): every buffer it
    // returned must still hold its own record's bytes after all the encodes that followed.
    expect(returned.flatMap((r, i) => (r.bytes.toString('hex') === r.hex ? [] : [i]))).toEqual([]); // indexes of overwritten ones
    expect(new Set(returned.map((r) => r.bytes.buffer)).size).toBeGreaterThan(1);
  });

  it('covers the other shapes it supports: top-level arrays and maps, a null second in a union, a record in a union, ints', () => {
    const cases: [avro.Schema, fc.Arbitrary<unknown>][] = [
      [{ type: 'array', items: 'string' }, fc.array(stringArb(false))],
      [{ type: 'map', values: 'long' }, fc.dictionary(stringArb(false), longArb)],
      [['string', 'null'], fc.option(stringArb(false), { nil: null })],
      [['null', { type: 'record', name: 'P', fields: [{ name: 'n', type: 'int' }, { name: 'm', type: { type: 'map', values: ['null', 'double'] } }] }], fc.option(fc.record({ n: intArb, m: fc.dictionary(fc.string(), fc.option(fc.double(), { nil: null })) }), { nil: null })],
      [{ type: 'array', items: { type: 'array', items: 'boolean' } }, fc.array(fc.array(fc.boolean()))],
      ['null', fc.constant(null)],
    ];
    for (const [schema, arb] of cases) {
      const type = avro.Type.forSchema(schema);
      const compiled = compileAvroWriter(type);
      expect(compiled, JSON.stringify(schema)).toBeDefined();
      fc.assert(
        fc.property(fc.oneof(arb, fc.anything()), (value) => {
          expect(outcome(compiled ?? type.encode.bind(type), value)).toBe(outcome((v, b, p) => type.encode(v, b, p), value));
        }),
        { seed: SEED, numRuns: 300, endOnFailure: true },
      );
    }
  });

  it('declines the types kaudit does not use, leaving them to avsc', () => {
    for (const schema of [
      { type: 'enum', name: 'E', symbols: ['A'] },
      { type: 'fixed', name: 'F', size: 2 },
      'bytes',
      'float',
      ['null', 'string', 'long'],
      ['string', 'long'],
      { type: 'record', name: 'R', fields: [{ name: 'b', type: 'bytes' }] },
    ] as avro.Schema[]) {
      expect(compileAvroWriter(avro.Type.forSchema(schema)), JSON.stringify(schema)).toBeUndefined();
    }
  });
});
