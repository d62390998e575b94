import { describe, expect, it } from 'vitest';
import { sampleAlert } from '../test-helpers/sample-alert.js';
import { opsgenieAlertSchema } from '@kaudit/testkit';
import { opsgeniePayload } from './opsgenie-payload.js';

describe('opsgeniePayload', () => {
  it('is a create-alert request: message ≤ 130, alias = alert id, string details, priority from severity', () => {
    const body = opsgeniePayload(sampleAlert({ severity: 'critical', summary: 'z'.repeat(300) }), [{ type: 'team', name: 'platform' }]);
    expect(opsgenieAlertSchema.safeParse(body).success).toBe(true);
    expect(body).toMatchObject({ alias: sampleAlert().alertId, priority: 'P1', responders: [{ type: 'team', name: 'platform' }] });
    expect(body.message.length).toBeLessThanOrEqual(130);
  });

  it('a late delivery says so in the message and in details', () => {
    const body = opsgeniePayload(sampleAlert({ lateByMs: 7_500_000 }), []);
    expect(opsgenieAlertSchema.safeParse(body).success).toBe(true);
    expect(body.message).toMatch(/^LATE by 2h 5m — Workload deleted by a human: /);
    expect(body.details).toMatchObject({ lateBy: '2h 5m', lateByMs: '7500000' });
  });

  it('a follow-up keeps the alias of the first alert (Opsgenie folds it into that alert)', () => {
    const body = opsgeniePayload(sampleAlert({ followUp: true, count: 1000, summary: 'Alice Example deleted deployments/nginx in web — and 999 more times in 10 minutes' }), []);
    expect(opsgenieAlertSchema.safeParse(body).success).toBe(true);
    expect(body.alias).toBe(sampleAlert().alertId);
    expect(body.details).toMatchObject({ followUp: 'true', count: '1000' });
  });
});
