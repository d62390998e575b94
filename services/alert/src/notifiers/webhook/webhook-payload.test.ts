import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { alertRecordSchema } from '@kaudit/audit-schema';
import { sampleAlert } from '../test-helpers/sample-alert.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, webhookRequest } from './webhook-payload.js';

describe('webhookRequest', () => {
  it('sends the alert record as JSON, unsigned without a secret', () => {
    const req = webhookRequest(sampleAlert(), undefined, 1_763_800_000_000);
    expect(alertRecordSchema.parse((JSON.parse(req.body) as { alert: unknown }).alert)).toEqual(sampleAlert());
    expect(req.headers).toEqual({});
  });

  it('signs "<timestamp>.<body>" with HMAC-SHA256', () => {
    const req = webhookRequest(sampleAlert(), 's3cret', 1_763_800_000_000);
    expect(req.headers[TIMESTAMP_HEADER]).toBe('1763800000');
    const expected = createHmac('sha256', 's3cret').update(`1763800000.${req.body}`).digest('hex');
    expect(req.headers[SIGNATURE_HEADER]).toBe(`sha256=${expected}`);
  });

  it('a late delivery carries lateByMs in the record; an old record without it still decodes', () => {
    const req = webhookRequest(sampleAlert({ lateByMs: 7_500_000 }), undefined, 1_763_800_000_000);
    expect(alertRecordSchema.parse((JSON.parse(req.body) as { alert: unknown }).alert).lateByMs).toBe(7_500_000);
    const old: Record<string, unknown> = { ...sampleAlert() };
    delete old.lateByMs;
    expect(alertRecordSchema.parse(old).lateByMs).toBeUndefined();
  });
});
