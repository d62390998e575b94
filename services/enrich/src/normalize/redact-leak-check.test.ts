import { describe, expect, it } from 'vitest';
import { sampleAuditRecord } from '@kaudit/audit-schema';
import { scrubLeaks } from './redact-leak-check.js';

const VALUE = 'pa"ss\\word-1234';

describe('scrubLeaks (the final leak check)', () => {
  it('finds a dropped value however deep it is escaped: a Secret in an annotation inside an apply body logged as text', () => {
    const secret = JSON.stringify({ kind: 'Secret', stringData: { p: VALUE } });
    const applyText = `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  annotations:\n    copy: ${JSON.stringify(secret)}\n`;
    const record = { ...sampleAuditRecord(), requestObject: JSON.stringify(applyText), annotations: { 'example.com/copy': JSON.stringify({ nested: secret }) } };
    const scrubbed = scrubLeaks(record, new Set([VALUE]));
    expect(scrubbed.requestObject).toBe('{"kauditRedacted":"[redacted]"}');
    expect(scrubbed.annotations['example.com/copy']).toBe('[redacted]');
    expect(scrubbed.truncated).toBe(true);
  });

  it('finds a dropped value that only JSON escapes hide (\\u spellings), and skips nothing a backslash-free text could hold', () => {
    const plain = 'tokenvalue-5678';
    // "tokenv\u0061lue-5678" parses to the value; the text itself does not contain it.
    const requestObject = `{"spec":{"token":"tokenv\\u0061lue-5678"}}`;
    expect(requestObject.includes(plain)).toBe(false);
    const record = { ...sampleAuditRecord(), requestObject, annotations: { 'example.com/a': `["x","tokenv\\u0061lue-5678"]`, 'example.com/b': '{"clean":[1,2,{}]}' } };
    const scrubbed = scrubLeaks(record, new Set([plain]));
    expect(scrubbed.requestObject).toBe('{"kauditRedacted":"[redacted]"}');
    expect(scrubbed.annotations).toEqual({ 'example.com/a': '[redacted]', 'example.com/b': '{"clean":[1,2,{}]}' });
    expect(scrubbed.truncated).toBe(true);
  });

  it('cuts a dropped value out of any other text field, and leaves a clean record as it is', () => {
    const record = { ...sampleAuditRecord(), response: { ...sampleAuditRecord().response, message: `invalid value "${VALUE}"` } };
    expect(scrubLeaks(record, new Set([VALUE])).response.message).toBe('invalid value "[redacted]"');
    const clean = sampleAuditRecord();
    expect(scrubLeaks(clean, new Set([VALUE]))).toEqual(clean);
  });
});
