import { describe, expect, it } from 'vitest';
import { sampleAlert } from '../test-helpers/sample-alert.js';
import { slackWebhookSchema } from '@kaudit/testkit';
import { slackPayload } from './slack-payload.js';

describe('slackPayload', () => {
  it('is a valid Block Kit webhook body naming the person and the object', () => {
    const body = slackPayload(sampleAlert());
    expect(slackWebhookSchema.safeParse(body).success).toBe(true);
    expect(body.text).toContain('Alice Example deleted deployments/nginx');
    expect(JSON.stringify(body.blocks)).toContain('*Actor*\\nAlice Example (user:alice@example.com)');
  });

  it('stays within Block Kit limits and escapes mrkdwn control characters', () => {
    const body = slackPayload(sampleAlert({ ruleName: 'x'.repeat(400), summary: '<@here> & '.repeat(600) }));
    expect(slackWebhookSchema.safeParse(body).success).toBe(true);
    expect(JSON.stringify(body.blocks)).not.toContain('<@here>');
  });

  it('a late delivery says so first, and by how much', () => {
    const body = slackPayload(sampleAlert({ lateByMs: 7_500_000 }));
    expect(slackWebhookSchema.safeParse(body).success).toBe(true);
    expect(body.text).toMatch(/^LATE by 2h 5m — HIGH: /);
    expect(JSON.stringify(body.blocks)).toContain('LATE by 2h 5m');
    expect(JSON.stringify(body.blocks)).toContain('*Delivered late*');
    expect(slackPayload(sampleAlert()).text).not.toContain('LATE');
  });

  it('a follow-up says so and names the first alert it continues', () => {
    const body = slackPayload(sampleAlert({ followUp: true, count: 1000, summary: 'Alice Example deleted deployments/nginx in web — and 999 more times in 10 minutes' }));
    expect(slackWebhookSchema.safeParse(body).success).toBe(true);
    expect(body.text).toMatch(/^Follow-up — HIGH: .* — and 999 more times in 10 minutes$/);
    expect(JSON.stringify(body.blocks)).toContain(`follow-up to alert ${sampleAlert().alertId}, first seen 2025-11-22T08:26:40.000Z`);
  });
});
