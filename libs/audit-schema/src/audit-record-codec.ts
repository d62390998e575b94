import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import { KauditError } from '@kaudit/errors';
import { auditRecordSchema, type AuditRecord } from './audit-record.js';

/** Kafka header carrying the writer schema's fingerprint (sha256 of its canonical form, hex). */
export const SCHEMA_FINGERPRINT_HEADER = 'kaudit-schema';

const AVRO_DIR = fileURLToPath(new URL('../avro/', import.meta.url));

interface Version {
  version: number;
  type: avro.Type;
  fingerprint: string;
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
  readonly #resolvers = new Map<string, avro.Resolver | null>();
  #scratch = Buffer.allocUnsafe(16 * 1024);

  constructor() {
    this.#versions = loadVersions();
    const current = this.#versions[this.#versions.length - 1];
    if (!current) throw new KauditError('INTERNAL', `no Avro schemas found in ${AVRO_DIR}`);
    this.#current = current;
    for (const v of this.#versions) {
      this.#resolvers.set(v.fingerprint, v === current ? null : current.type.createResolver(v.type));
    }
  }

  /** Fingerprint to put in the SCHEMA_FINGERPRINT_HEADER of every produced record. */
  get fingerprint(): string {
    return this.#current.fingerprint;
  }

  get version(): number {
    return this.#current.version;
  }

  encode(record: AuditRecord): Buffer {
    // avsc's toBuffer() writes into a 1 KiB pool and, when the record is bigger (most audit records
    // are), encodes it a second time. Encoding into our own scratch buffer (grown to the largest
    // record seen) does it once: this is enrich's hot path. Same bytes either way.
    for (;;) {
      const end = this.#current.type.encode(record, this.#scratch, 0);
      if (end >= 0) return Buffer.from(this.#scratch.subarray(0, end));
      this.#scratch = Buffer.allocUnsafe(Math.max(this.#scratch.length * 2, this.#scratch.length - end));
    }
  }

  /** Decodes bytes written with the schema of `fingerprint`; INPUT_INVALID when unknown or corrupt. */
  decode(bytes: Buffer, fingerprint: string | undefined): AuditRecord {
    const key = fingerprint ?? this.#current.fingerprint;
    if (!this.#resolvers.has(key)) {
      throw new KauditError('INPUT_INVALID', `unknown audit record schema fingerprint ${key}`);
    }
    const resolver = this.#resolvers.get(key) ?? undefined;
    let value: unknown;
    try {
      value = resolver === undefined ? this.#current.type.fromBuffer(bytes) : this.#current.type.fromBuffer(bytes, resolver);
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
