import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import { KauditError } from '@kaudit/errors';
import { ACTOR_KINDS, auditRecordSchema, OPERATION_CLASSES, PROVIDERS, type AuditRecord } from './audit-record.js';
import { compileAvroReader } from './compile-avro-reader.js';
import { compileAvroWriter, type AvroWriter } from './compile-avro-writer.js';

/** Kafka header carrying the writer schema's fingerprint (sha256 of its canonical form, hex). */
export const SCHEMA_FINGERPRINT_HEADER = 'kaudit-schema';

const AVRO_DIR = fileURLToPath(new URL('../avro/', import.meta.url));

interface Version {
  version: number;
  type: avro.Type;
  fingerprint: string;
}

/** How bytes of one writer version become a record of the current shape. */
interface Reader {
  /** Generated for this writer version (compileAvroReader), when it can be: plain objects, nothing checked beyond Avro. */
  compiled: ((bytes: Buffer) => unknown) | undefined;
  /** avsc's schema resolution from this writer version; undefined for the current version itself. */
  resolver: avro.Resolver | undefined;
}

/** Encode's slabs: about 64 audit records each (~1 KiB), as Node's own Buffer pool is a few small buffers. */
const SLAB_BYTES = 64 * 1024;

const providers: ReadonlySet<string> = new Set(PROVIDERS);
const actorKinds: ReadonlySet<string> = new Set(ACTOR_KINDS);
const operations: ReadonlySet<string> = new Set(OPERATION_CLASSES);

/**
 * What auditRecordSchema demands beyond the Avro types of a record a compiled reader produced (Avro already
 * fixed every field's presence and type, strings, nulls, arrays and maps; its longs are safe integers): the
 * enums, the non-empty ids, a finite latency. Parsing with zod instead checks everything again and deep-copies
 * the record, which cost as much as decoding it (issue 16). The codec tests run both on the same bytes, mutated
 * field by field, so a constraint added to the zod schema and not here fails them.
 * Returns the problems, empty when the record is valid.
 */
function problemsOf(r: AuditRecord): string[] {
  const problems: string[] = [];
  if (r.cluster.length === 0) problems.push('cluster: empty');
  if (r.auditID.length === 0) problems.push('auditID: empty');
  if (!providers.has(r.provider)) problems.push(`provider: ${JSON.stringify(r.provider)} is not one of ${PROVIDERS.join(', ')}`);
  if (!actorKinds.has(r.actor.kind)) problems.push(`actor.kind: ${JSON.stringify(r.actor.kind)} is not one of ${ACTOR_KINDS.join(', ')}`);
  if (!operations.has(r.operation)) problems.push(`operation: ${JSON.stringify(r.operation)} is not an operation class`);
  if (!Number.isFinite(r.latencyMs)) problems.push(`latencyMs: ${r.latencyMs} is not finite`);
  return problems;
}

function loadVersions(): Version[] {
  return readdirSync(AVRO_DIR)
    .map((file) => /^audit-record-v(\d+)\.avsc\.json$/.exec(file))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => {
      const type = avro.Type.forSchema(JSON.parse(readFileSync(`${AVRO_DIR}${m[0]}`, 'utf8')) as avro.Schema);
      return { version: Number(m[1]), type, fingerprint: type.fingerprint('sha256').toString('hex') };
    })
    .sort((a, b) => a.version - b.version);
}

/**
 * Encodes records with the newest schema and decodes any past version's bytes into the newest
 * shape (Avro schema resolution), so a reader upgrade never strands old messages on the topic.
 */
export class AuditRecordCodec {
  readonly #versions: Version[];
  readonly #current: Version;
  readonly #readers = new Map<string, Reader>();
  /** Generated for the current schema (compileAvroWriter), else avsc's own: same contract, same bytes. */
  readonly #write: AvroWriter;
  /** Where encode writes records, each at the end of the last; a region is returned once and never written again. */
  #slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
  #slabUsed = 0;

  constructor() {
    this.#versions = loadVersions();
    const current = this.#versions[this.#versions.length - 1];
    if (!current) throw new KauditError('INTERNAL', `no Avro schemas found in ${AVRO_DIR}`);
    this.#current = current;
    this.#write = compileAvroWriter(current.type) ?? ((value, buf, pos) => current.type.encode(value, buf, pos));
    for (const v of this.#versions) {
      this.#readers.set(v.fingerprint, {
        compiled: compileAvroReader(v.type, current.type),
        resolver: v === current ? undefined : current.type.createResolver(v.type),
      });
    }
  }

  /** Fingerprint to put in the SCHEMA_FINGERPRINT_HEADER of every produced record. */
  get fingerprint(): string {
    return this.#current.fingerprint;
  }

  get version(): number {
    return this.#current.version;
  }

  /**
   * The record's Avro bytes (the current schema; exactly avsc's). The Buffer is a view of a slab other records
   * share, as Node's pooled Buffers are: copy it before transferring its `.buffer` (e.g. to a worker thread).
   */
  encode(record: AuditRecord): Buffer {
    // Each record is written straight into the unused end of a slab and returned as a view of those bytes,
    // which are never written again: no copy per record (it cost about a sixth of encode, issue 16) and no
    // second encoding as avsc's toBuffer() does for records over its 1 KiB pool. A record that does not fit
    // in what is left starts a new slab (at least twice its size); the old one lives as long as its views.
    for (;;) {
      const start = this.#slabUsed;
      const end = this.#write(record, this.#slab, start);
      if (end >= 0) {
        this.#slabUsed = end;
        return this.#slab.subarray(start, end);
      }
      // end is minus the bytes missing: the record takes (slab length - end) - start bytes. Twice that, so the
      // records after a big one still fit (each miss costs an encode).
      this.#slab = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, 2 * (this.#slab.length - end - start)));
      this.#slabUsed = 0;
    }
  }

  /** Decodes bytes written with the schema of `fingerprint`; INPUT_INVALID when unknown or corrupt. */
  decode(bytes: Buffer, fingerprint: string | undefined): AuditRecord {
    const key = fingerprint ?? this.#current.fingerprint;
    const reader = this.#readers.get(key);
    if (reader === undefined) {
      throw new KauditError('INPUT_INVALID', `unknown audit record schema fingerprint ${key}`);
    }
    if (reader.compiled === undefined) return this.decodeWithAvsc(bytes, fingerprint);
    let value: AuditRecord;
    try {
      value = reader.compiled(bytes) as AuditRecord;
    } catch (cause) {
      throw new KauditError('INPUT_INVALID', `audit record is not valid Avro: ${(cause as Error).message}`, { cause });
    }
    const problems = problemsOf(value);
    if (problems.length > 0) throw new KauditError('INPUT_INVALID', `decoded audit record failed validation: ${problems.join('; ')}`);
    return value;
  }

  /**
   * The reference decoder: avsc's generic reader and schema resolution, then the full zod schema. decode() uses
   * it for a writer version compileAvroReader cannot compile; the tests check decode() against it.
   */
  decodeWithAvsc(bytes: Buffer, fingerprint: string | undefined): AuditRecord {
    const key = fingerprint ?? this.#current.fingerprint;
    const reader = this.#readers.get(key);
    if (reader === undefined) {
      throw new KauditError('INPUT_INVALID', `unknown audit record schema fingerprint ${key}`);
    }
    let value: unknown;
    try {
      value = this.#current.type.fromBuffer(bytes, reader.resolver);
    } catch (cause) {
      throw new KauditError('INPUT_INVALID', `audit record is not valid Avro: ${(cause as Error).message}`, { cause });
    }
    const parsed = auditRecordSchema.safeParse(value);
    if (!parsed.success) {
      throw new KauditError('INPUT_INVALID', `decoded audit record failed validation: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    return parsed.data;
  }
}
