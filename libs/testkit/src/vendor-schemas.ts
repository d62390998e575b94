import { z } from 'zod';

/**
 * The vendors' documented request formats, written from their reference pages, so tests check what
 * a real Slack/Teams/PagerDuty/Opsgenie would accept rather than what our builder happens to emit.
 */

const slackText = (max: number) => z.strictObject({ type: z.enum(['plain_text', 'mrkdwn']), text: z.string().min(1).max(max), emoji: z.boolean().optional() });

/** https://api.slack.com/reference/block-kit/blocks (header, section, context), incoming-webhook body. */
export const slackWebhookSchema = z.strictObject({
  text: z.string().min(1).max(40_000),
  blocks: z
    .array(
      z.discriminatedUnion('type', [
        z.strictObject({ type: z.literal('header'), text: slackText(150).refine((t) => t.type === 'plain_text', 'header text must be plain_text') }),
        z
          .strictObject({ type: z.literal('section'), text: slackText(3000).optional(), fields: z.array(slackText(2000)).min(1).max(10).optional() })
          .refine((s) => s.text !== undefined || s.fields !== undefined, 'a section needs text or fields'),
        z.strictObject({ type: z.literal('context'), elements: z.array(slackText(3000)).min(1).max(10) }),
      ]),
    )
    .max(50),
});

const adaptiveElement = z.union([
  z.looseObject({ type: z.literal('TextBlock'), text: z.string().min(1) }),
  z.looseObject({ type: z.literal('FactSet'), facts: z.array(z.strictObject({ title: z.string(), value: z.string() })).min(1) }),
]);

/** Teams incoming webhook: a `message` whose attachment is an Adaptive Card (contentType fixed, contentUrl null). */
export const teamsWebhookSchema = z.strictObject({
  type: z.literal('message'),
  attachments: z
    .array(
      z.strictObject({
        contentType: z.literal('application/vnd.microsoft.card.adaptive'),
        contentUrl: z.null(),
        content: z.looseObject({
          $schema: z.literal('http://adaptivecards.io/schemas/adaptive-card.json'),
          type: z.literal('AdaptiveCard'),
          version: z.string().regex(/^1\.[0-5]$/),
          body: z.array(adaptiveElement).min(1),
        }),
      }),
    )
    .length(1),
});

/** https://developer.pagerduty.com/docs/events-api-v2/trigger-events/ */
export const pagerdutyEventSchema = z.strictObject({
  routing_key: z.string().length(32),
  event_action: z.literal('trigger'),
  dedup_key: z.string().min(1).max(255),
  payload: z.strictObject({
    summary: z.string().min(1).max(1024),
    source: z.string().min(1),
    severity: z.enum(['critical', 'error', 'warning', 'info']),
    timestamp: z.iso.datetime().optional(),
    component: z.string().optional(),
    group: z.string().optional(),
    class: z.string().optional(),
    custom_details: z.record(z.string(), z.unknown()).optional(),
  }),
});

/** https://docs.opsgenie.com/docs/alert-api#create-alert */
export const opsgenieAlertSchema = z.strictObject({
  message: z.string().min(1).max(130),
  alias: z.string().max(512).optional(),
  description: z.string().max(15_000).optional(),
  responders: z.array(z.strictObject({ type: z.enum(['team', 'user', 'escalation', 'schedule']), name: z.string() })).optional(),
  tags: z.array(z.string()).max(20).optional(),
  details: z.record(z.string(), z.string()).optional(),
  entity: z.string().max(512).optional(),
  source: z.string().max(100).optional(),
  priority: z.enum(['P1', 'P2', 'P3', 'P4', 'P5']).optional(),
});
