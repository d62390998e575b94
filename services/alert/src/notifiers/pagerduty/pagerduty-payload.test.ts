import { describe, expect, it } from 'vitest';
import { sampleAlert } from '../test-helpers/sample-alert.js';
import { pagerdutyEventSchema } from '@kaudit/testkit';
import { pagerdutyPayload } from './pagerduty-payload.js';

const KEY = 'R0123456789abcdef0123456789abcde';

describe('pagerdutyPayload', () => {
  it('is an Events API v2 trigger with the alert id as dedup_key and a mapped severity', () => {
    const body = pagerdutyPayload(sampleAlert({ severity: 'medium' }), KEY);
    expect(pagerdutyEventSchema.parse(body)).toMatchObject({ routing_key: KEY, event_action: 'trigger', dedup_key: sampleAlert().alertId, payload: { severity: 'warning', source: 'prod-eu-1' } });
  });

  it('caps the summary at 1024 characters', () => {
    const body = pagerdutyPayload(sampleAlert({ summary: 'y'.repeat(5000) }), KEY);
    expect(pagerdutyEventSchema.safeParse(body).success).toBe(true);
    expect(body.payload.summary).toHaveLength(1024);
  });

  it('a late delivery says so in the summary and carries lateByMs in custom_details', () => {
    const body = pagerdutyPayload(sampleAlert({ lateByMs: 7_500_000 }), KEY);
    expect(pagerdutyEventSchema.safeParse(body).success).toBe(true);
    expect(body.payload.summary).toMatch(/^LATE by 2h 5m — Workload deleted by a human: /);
    expect(body.payload.custom_details).toMatchObject({ lateByMs: 7_500_000 });
    expect(body.dedup_key).toBe(sampleAlert().alertId);
  });

  it('a follow-up updates the same incident: same dedup_key, the total in the summary', () => {
    const first = pagerdutyPayload(sampleAlert(), KEY);
    const body = pagerdutyPayload(sampleAlert({ followUp: true, count: 1000, summary: 'Alice Example deleted deployments/nginx in web — and 999 more times in 10 minutes' }), KEY);
    expect(pagerdutyEventSchema.safeParse(body).success).toBe(true);
    expect(body.dedup_key).toBe(first.dedup_key);
    expect(body.payload.summary).toContain('and 999 more times in 10 minutes');
    expect(body.payload.custom_details).toMatchObject({ count: 1000, followUp: true });
  });
});
