import { z } from 'zod';
import { secret } from '@kaudit/config';
import { destinationBase } from '../destination-config.js';

/** Microsoft Teams incoming webhook (or a Workflows "post to a channel when a webhook request is received" URL). */
export const teamsConfigSchema = destinationBase({ perSecond: 1 }).extend({
  type: z.literal('teams'),
  webhookUrl: secret(),
});

export type TeamsConfig = z.infer<typeof teamsConfigSchema>;
