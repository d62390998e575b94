import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { isKauditError } from '@kaudit/errors';
import { AuditRecordCodec } from './audit-record-codec.js';
import { auditRecordSchema } from './audit-record.js';
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
