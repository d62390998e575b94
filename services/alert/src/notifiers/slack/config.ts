import { z } from 'zod';
import { secret } from '@kaudit/config';
import { destinationBase } from '../destination-config.js';

/** Slack incoming webhook; Slack allows about 1 message per second per webhook. */
export const slackConfigSchema = destinationBase({ perSecond: 1 }).extend({
  type: z.literal('slack'),
  webhookUrl: secret(),
});

export type SlackConfig = z.infer<typeof slackConfigSchema>;
