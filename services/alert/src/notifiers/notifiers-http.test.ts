import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { isKauditError } from '@kaudit/errors';
import { createNotifier, notifierConfigSchema } from './registry.js';
import { sampleAlert } from './test-helpers/sample-alert.js';
import { VendorReceiver, type ReceiverBehaviour } from './test-helpers/vendor-receiver.js';
import { opsgenieAlertSchema, pagerdutyEventSchema, slackWebhookSchema, teamsWebhookSchema } from '@kaudit/testkit';

const deps = { fetch: globalThis.fetch, nowMs: () => 1_763_800_000_000, timeoutMs: 5000 };
const receivers: VendorReceiver[] = [];

async function receiver(behaviour: ReceiverBehaviour): Promise<{ rx: VendorReceiver; url: string }> {
  const rx = new VendorReceiver(behaviour);
  receivers.push(rx);
  return { rx, url: await rx.start() };
}

afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.stop()));
});

describe('notifiers against real HTTP receivers that check the vendor format', () => {
  it('Slack: Block Kit to the incoming webhook', async () => {
    const { rx, url } = await receiver({ schema: slackWebhookSchema });
    await createNotifier(notifierConfigSchema.parse({ type: 'slack', name: 's', webhookUrl: `${url}/services/T/B/x` }), deps).send(sampleAlert());
    expect(rx.accepted).toHaveLength(1);
    expect(rx.accepted[0]?.path).toBe('/services/T/B/x');
    expect(rx.accepted[0]?.headers['content-type']).toBe('application/json');
  });

  it('Teams: an Adaptive Card in a message attachment', async () => {
    const { rx, url } = await receiver({ schema: teamsWebhookSchema });
    await createNotifier(notifierConfigSchema.parse({ type: 'teams', name: 't', webhookUrl: url }), deps).send(sampleAlert());
    expect(rx.accepted).toHaveLength(1);
  });

  it('PagerDuty: Events API v2 trigger with routing_key and dedup_key', async () => {
    const { rx, url } = await receiver({ schema: pagerdutyEventSchema, respond: () => ({ status: 202, body: '{"status":"success"}' }) });
    const key = 'R0123456789abcdef0123456789abcde';
    await createNotifier(notifierConfigSchema.parse({ type: 'pagerduty', name: 'pd', routingKey: key, eventsUrl: `${url}/v2/enqueue` }), deps).send(sampleAlert());
    expect(rx.accepted[0]?.json).toMatchObject({ routing_key: key, dedup_key: sampleAlert().alertId });
  });

  it('Opsgenie: create-alert with the GenieKey header and the alert id as alias', async () => {
    const { rx, url } = await receiver({
      schema: opsgenieAlertSchema,
      check: (req) => (req.headers.authorization === 'GenieKey og-key' ? undefined : 'missing GenieKey'),
      respond: () => ({ status: 202 }),
    });
    await createNotifier(notifierConfigSchema.parse({ type: 'opsgenie', name: 'og', apiKey: 'og-key', alertsUrl: `${url}/v2/alerts` }), deps).send(sampleAlert());
    expect(rx.accepted[0]?.json).toMatchObject({ alias: sampleAlert().alertId, priority: 'P2' });
  });

  it('webhook: the receiver can verify the HMAC signature', async () => {
    const { rx, url } = await receiver({
      check: (req) => {
        const ts = String(req.headers['x-kaudit-timestamp']);
        const expected = `sha256=${createHmac('sha256', 'shh').update(`${ts}.${req.body}`).digest('hex')}`;
        return req.headers['x-kaudit-signature'] === expected ? undefined : 'bad signature';
      },
    });
    await createNotifier(notifierConfigSchema.parse({ type: 'webhook', name: 'w', url, hmacSecret: 'shh', headers: { 'x-team': 'sec' } }), deps).send(sampleAlert());
    expect(rx.accepted[0]?.headers['x-team']).toBe('sec');
  });

  it('classifies failures: 429 with Retry-After and 5xx are retryable, 4xx is not, the URL never appears in errors', async () => {
    const { url } = await receiver({
      respond: (n) => [{ status: 429, headers: { 'retry-after': '7' } }, { status: 503 }, { status: 404, body: 'no_service' }][n] ?? { status: 200 },
    });
    const slack = createNotifier(notifierConfigSchema.parse({ type: 'slack', name: 'ops', webhookUrl: `${url}/secret-path` }), deps);
    const errors: unknown[] = [];
    for (let i = 0; i < 3; i++) await slack.send(sampleAlert()).catch((e: unknown) => errors.push(e));
    const [tooMany, unavailable, notFound] = errors;
    expect(isKauditError(tooMany, 'NOTIFIER_FAILED') && tooMany.retryable && tooMany.details.retryAfterMs).toBe(7000);
    expect(isKauditError(unavailable) && unavailable.retryable).toBe(true);
    expect(isKauditError(notFound) && notFound.retryable).toBe(false);
    expect(errors.map((e) => (e as Error).message).join(' ')).not.toContain('secret-path');
  });

  it('a receiver that is down is a retryable failure', async () => {
    const { rx, url } = await receiver({});
    await rx.stop();
    receivers.pop();
    const err = await createNotifier(notifierConfigSchema.parse({ type: 'webhook', name: 'w', url }), deps).send(sampleAlert()).catch((e: unknown) => e);
    expect(isKauditError(err, 'NOTIFIER_FAILED') && err.retryable).toBe(true);
  });
});
