import { z } from 'zod';
import type { Notifier, NotifierDeps } from './notifier.js';
import { opsgenieConfigSchema } from './opsgenie/config.js';
import { OpsgenieNotifier } from './opsgenie/opsgenie-notifier.js';
import { pagerdutyConfigSchema } from './pagerduty/config.js';
import { PagerdutyNotifier } from './pagerduty/pagerduty-notifier.js';
import { slackConfigSchema } from './slack/config.js';
import { SlackNotifier } from './slack/slack-notifier.js';
import { teamsConfigSchema } from './teams/config.js';
import { TeamsNotifier } from './teams/teams-notifier.js';
import { webhookConfigSchema } from './webhook/config.js';
import { WebhookNotifier } from './webhook/webhook-notifier.js';

/** A new notifier is one folder plus one line here and one in NOTIFIERS. */
export const notifierConfigSchema = z.discriminatedUnion('type', [
  slackConfigSchema,
  teamsConfigSchema,
  pagerdutyConfigSchema,
  opsgenieConfigSchema,
  webhookConfigSchema,
]);

export type NotifierConfig = z.infer<typeof notifierConfigSchema>;
type NotifierType = NotifierConfig['type'];
type Factory<T extends NotifierType> = (config: Extract<NotifierConfig, { type: T }>, deps: NotifierDeps) => Notifier;

const NOTIFIERS: { [T in NotifierType]: Factory<T> } = {
  slack: (c, d) => new SlackNotifier(c, d),
  teams: (c, d) => new TeamsNotifier(c, d),
  pagerduty: (c, d) => new PagerdutyNotifier(c, d),
  opsgenie: (c, d) => new OpsgenieNotifier(c, d),
  webhook: (c, d) => new WebhookNotifier(c, d),
};

export function createNotifier(config: NotifierConfig, deps: NotifierDeps): Notifier {
  // The mapped type guarantees NOTIFIERS[config.type] takes exactly this config's variant.
  return (NOTIFIERS[config.type] as Factory<NotifierType>)(config as never, deps);
}

/** The notifiers file: `notifiers: [...]`, names unique. */
export const notifiersFileSchema = z
  .strictObject({ notifiers: z.array(notifierConfigSchema).default([]) })
  .refine((f) => new Set(f.notifiers.map((n) => n.name)).size === f.notifiers.length, { message: 'notifier names must be unique', path: ['notifiers'] });
