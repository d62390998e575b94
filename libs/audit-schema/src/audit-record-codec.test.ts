import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { isKauditError } from '@kaudit/errors';
import { AuditRecordCodec } from './audit-record-codec.js';
import { auditRecordSchema, emptySecurityFacts } from './audit-record.js';
import { sampleAuditRecord } from './sample-audit-record.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

describe('AuditRecordCodec', () => {
  const codec = new AuditRecordCodec();

  it('round-trips a full record, nulls and maps included', () => {
    const record = sampleAuditRecord({
      impersonatedUser: { username: 'bob', uid: '1', groups: ['g'], extra: { sessionName: 'x' } },
      annotations: { 'pod-security.kubernetes.io/enforce-policy': 'restricted:latest' },
      response: { code: null, status: null, reason: null, message: null },
    });
    expect(codec.decode(codec.encode(record), codec.fingerprint)).toEqual(record);
  });

  it('encodes exactly the bytes avsc would, for records bigger than any scratch buffer too', () => {
    const avroType = avro.Type.forSchema(JSON.parse(readFileSync(fileURLToPath(new URL(`../avro/audit-record-v${codec.version}.avsc.json`, import.meta.url)), 'utf8')) as avro.Schema);
    const small = sampleAuditRecord();
    const big = sampleAuditRecord({ requestObject: JSON.stringify({ blob: 'x'.repeat(100_000) }), responseObject: 'é'.repeat(40_000) });
    for (const record of [small, big, small]) {
      const bytes = codec.encode(record);
      expect(bytes.equals(avroType.toBuffer(record))).toBe(true);
      expect(codec.decode(bytes, codec.fingerprint)).toEqual(record);
    }
  });

  it('the zod schema and the Avro schema describe the same fields', () => {
    const avroFields = (JSON.parse(readFileSync(fileURLToPath(new URL(`../avro/audit-record-v${codec.version}.avsc.json`, import.meta.url)), 'utf8')) as { fields: { name: string }[] }).fields.map((f) => f.name);
    expect(avroFields.sort()).toEqual(Object.keys(auditRecordSchema.shape).sort());
  });

  it('decodes every past fixture with the current reader (schemas only grow)', () => {
    const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.avro.b64'));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const [fingerprint, body] = readFileSync(`${FIXTURES}${file}`, 'utf8').trim().split('\n');
      const record = codec.decode(Buffer.from(body ?? '', 'base64'), fingerprint);
      expect(auditRecordSchema.safeParse(record).success).toBe(true);
    }
  });

  it('a v1 record (before the summary) decodes with summary null; a v2 record keeps it', () => {
    const decode = (file: string) => {
      const [fingerprint, body] = readFileSync(`${FIXTURES}${file}`, 'utf8').trim().split('\n');
      return codec.decode(Buffer.from(body ?? '', 'base64'), fingerprint);
    };
    expect(decode('audit-record-v1.avro.b64')).toMatchObject({ auditID: '6f1d2c84-0f3c-4d8e-9a51-2b8a4d7b1c01', summary: null });
    expect(decode('audit-record-v2.avro.b64')).toMatchObject({ verb: 'delete', summary: 'Alice Example deleted Pod default/web-0 in prod-eu-1' });
  });

  it('decode() gives exactly the records of the reference decoder (avsc resolution + zod), for both versions', () => {
    for (const file of readdirSync(FIXTURES).filter((f) => f.endsWith('.avro.b64'))) {
      const [fingerprint, body] = readFileSync(`${FIXTURES}${file}`, 'utf8').trim().split('\n');
      const bytes = Buffer.from(body ?? '', 'base64');
      const fast = codec.decode(bytes, fingerprint);
      expect(fast).toEqual(codec.decodeWithAvsc(bytes, fingerprint));
      expect(JSON.stringify(fast)).toBe(JSON.stringify(codec.decodeWithAvsc(bytes, fingerprint)));
    }
    const records = [
      sampleAuditRecord(),
      sampleAuditRecord({
        impersonatedUser: { username: 'bob', uid: '1', groups: ['g', 'h'], extra: { sessionName: 'x', 'é': 'ü' } },
        annotations: { 'pod-security.kubernetes.io/enforce-policy': 'restricted:latest', 'authorization.k8s.io/reason': 'RBAC: allowed by ClusterRoleBinding "admins"' },
        requestObject: JSON.stringify({ kind: 'Pod', spec: { containers: [{ image: 'nginx:1.27', name: 'web' }] } }),
        responseObject: '{"kind":"Status","message":"żółw 日本"}',
        latencyMs: 0.25,
        requestReceivedUs: -1,
        summary: 'Alice Example deleted Pod default/web-0 in prod-eu-1',
      }),
    ];
    for (const record of records) {
      const bytes = codec.encode(record);
      expect(codec.decode(bytes, codec.fingerprint)).toEqual(record);
      expect(JSON.stringify(codec.decode(bytes, undefined))).toBe(JSON.stringify(codec.decodeWithAvsc(bytes, undefined)));
    }
  });

  it('decode() rejects exactly what the reference decoder rejects, one field mutated at a time', () => {
    const avroType = avro.Type.forSchema(JSON.parse(readFileSync(fileURLToPath(new URL(`../avro/audit-record-v${codec.version}.avsc.json`, import.meta.url)), 'utf8')) as avro.Schema);
    const base = sampleAuditRecord({ impersonatedUser: { username: 'bob', uid: '1', groups: ['g'], extra: { k: 'v' } }, annotations: { a: 'b' }, security: { ...emptySecurityFacts(), hostPaths: ['/'], images: ['nginx'], addedCapabilities: ['NET_ADMIN'], credentialLikeKeys: ['password'] } });
    const candidates = (value: unknown): unknown[] =>
      typeof value === 'string' ? ['', 'not-a-valid-enum-value', 'é'] : typeof value === 'number' ? [NaN, Infinity, -Infinity, 1.5, -1, 2 ** 31, 2 ** 53 + 2] : typeof value === 'boolean' ? [!value] : [];
    let rejected = 0;
    let mutations = 0;
    const visit = (path: string[], value: unknown) => {
      if (value !== null && typeof value === 'object') {
        for (const [k, v] of Object.entries(value)) visit([...path, k], v);
        return;
      }
      for (const candidate of candidates(value)) {
        const record = structuredClone(base) as Record<string, unknown>;
        let at = record;
        for (const k of path.slice(0, -1)) at = at[k] as Record<string, unknown>;
        at[path[path.length - 1] as string] = candidate;
        if (!avroType.isValid(record)) continue; // Avro cannot even carry it
        const bytes = avroType.toBuffer(record);
        mutations++;
        const outcome = (decode: () => unknown) => {
          try {
            return JSON.stringify(decode());
          } catch (err) {
            expect(isKauditError(err, 'INPUT_INVALID')).toBe(true);
            return 'rejected';
          }
        };
        const reference = outcome(() => codec.decodeWithAvsc(bytes, codec.fingerprint));
        if (reference === 'rejected') rejected++;
        expect({ path: path.join('.'), candidate, outcome: outcome(() => codec.decode(bytes, codec.fingerprint)) }).toEqual({ path: path.join('.'), candidate, outcome: reference });
      }
    };
    visit([], base);
    // The enums, the non-empty ids and the finite latency are among them, so this cannot pass vacuously.
    expect(mutations).toBeGreaterThan(100);
    expect(rejected).toBeGreaterThanOrEqual(9);
  });

  it('rejects unknown fingerprints and corrupt bytes as INPUT_INVALID', () => {
    expect(() => codec.decode(Buffer.from('x'), 'deadbeef')).toThrowError(/unknown audit record schema/);
    let err: unknown;
    try {
      codec.decode(Buffer.from([1, 2, 3]), codec.fingerprint);
    } catch (e) {
      err = e;
    }
    expect(isKauditError(err, 'INPUT_INVALID')).toBe(true);
  });
});
