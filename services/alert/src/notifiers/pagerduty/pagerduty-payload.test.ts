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
});
