import { describe, expect, it } from 'vitest';
import { isKauditError } from '@kaudit/errors';
import { sampleAuditEvent, sampleEventList } from '../fixtures/sample-audit-event.js';
import { parseAuditBody } from './parse-audit-body.js';

const opts = { maxDepth: 32 };
const problemOf = (bytes: Buffer): unknown => {
  try {
    parseAuditBody(bytes, opts);
  } catch (err) {
    return isKauditError(err, 'INPUT_INVALID') ? err.details.problem : err;
  }
  return 'accepted';
};

describe('parseAuditBody', () => {
  it('accepts an EventList (v1 and v1beta1) and a single Event', () => {
    const list = parseAuditBody(Buffer.from(JSON.stringify(sampleEventList([sampleAuditEvent(1), sampleAuditEvent(2)]))), opts);
    expect(list).toMatchObject({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1' });
    expect(list.items).toHaveLength(2);
    const beta = parseAuditBody(Buffer.from(JSON.stringify(sampleEventList([], 'audit.k8s.io/v1beta1'))), opts);
    expect(beta.apiVersion).toBe('audit.k8s.io/v1beta1');
    const single = parseAuditBody(Buffer.from(JSON.stringify(sampleAuditEvent(3))), opts);
    expect(single.kind).toBe('Event');
    expect(single.items).toHaveLength(1);
  });

  it('names each kind of bad body', () => {
    expect(problemOf(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]))).toBe('invalid-utf8');
    expect(problemOf(Buffer.from('{"kind":"EventList",'))).toBe('malformed-json');
    expect(problemOf(Buffer.from('['.repeat(100) + ']'.repeat(100)))).toBe('too-deep');
    expect(problemOf(Buffer.from('{"kind":"Pod","apiVersion":"v1"}'))).toBe('wrong-kind');
    expect(problemOf(Buffer.from('{"kind":"EventList","apiVersion":"audit.k8s.io/v2","items":[]}'))).toBe('wrong-kind');
    expect(problemOf(Buffer.from('{"kind":"Event","apiVersion":"v1"}'))).toBe('wrong-kind');
    expect(problemOf(Buffer.from('[]'))).toBe('wrong-kind');
    // JSON.parse reads the escaped key as a second "items" and keeps it: which array is meant is ambiguous.
    expect(problemOf(Buffer.from('{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{"a":1}],"\\u0069tems":[{"b":2}]}'))).toBe('duplicate-items');
  });

  it('drops a leading byte order mark, so no published event starts with one', () => {
    const event = Buffer.from(JSON.stringify(sampleAuditEvent(4)));
    const parsed = parseAuditBody(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), event]), opts);
    expect(parsed.originals[0]?.equals(event)).toBe(true);
  });

  it('never quotes the body in what it says is wrong', () => {
    const err = (() => {
      try {
        parseAuditBody(Buffer.from('{"kind":"EventList","items":[{"token": hunter2-s3cr3t}]}'), opts);
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(err?.message).toMatch(/malformed JSON at position 39/);
    expect(err?.message).not.toContain('hunter2');
    expect(problemOf(Buffer.from('{"kind":"hunter2-s3cr3t","apiVersion":"v1"}'))).toBe('wrong-kind');
  });

  it('returns each event as the exact bytes received', () => {
    const text = '{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[ {"auditID":"a","n":12345678901234567890} , {"auditID":"b"} ]}';
    const parsed = parseAuditBody(Buffer.from(text), opts);
    expect(parsed.originals.map((b) => b?.toString())).toEqual(['{"auditID":"a","n":12345678901234567890}', '{"auditID":"b"}']);
    const single = Buffer.from(JSON.stringify(sampleAuditEvent(9)));
    expect(parseAuditBody(single, opts).originals[0]?.equals(single)).toBe(true);
  });
});
