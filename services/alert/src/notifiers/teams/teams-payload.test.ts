import { describe, expect, it } from 'vitest';
import { sampleAlert } from '../test-helpers/sample-alert.js';
import { teamsWebhookSchema } from '@kaudit/testkit';
import { teamsPayload } from './teams-payload.js';

describe('teamsPayload', () => {
  it('is a message with one Adaptive Card attachment carrying the summary and facts', () => {
    const body = teamsPayload(sampleAlert({ count: 1000 }));
    expect(teamsWebhookSchema.safeParse(body).success).toBe(true);
    const text = JSON.stringify(body);
    expect(text).toContain('Alice Example deleted deployments/nginx in web');
    expect(text).toContain('{"title":"Count","value":"1,000"}');
  });

  it('a late delivery says so in the title, and by how much', () => {
    const body = teamsPayload(sampleAlert({ lateByMs: 7_500_000 }));
    expect(teamsWebhookSchema.safeParse(body).success).toBe(true);
    expect(JSON.stringify(body)).toContain('"text":"LATE by 2h 5m — HIGH: Workload deleted by a human"');
    expect(JSON.stringify(body)).toContain('{"title":"Delivered late","value":"by 2h 5m"}');
  });

  it('a follow-up says so in the title and names the first alert', () => {
    const body = teamsPayload(sampleAlert({ followUp: true, count: 1000, summary: 'Alice Example deleted deployments/nginx in web — and 999 more times in 10 minutes' }));
    expect(teamsWebhookSchema.safeParse(body).success).toBe(true);
    expect(JSON.stringify(body)).toContain('"text":"Follow-up — HIGH: Workload deleted by a human"');
    expect(JSON.stringify(body)).toContain(`follow-up to alert ${sampleAlert().alertId}`);
  });
});
