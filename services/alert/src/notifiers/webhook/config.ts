import { z } from 'zod';
import { secret } from '@kaudit/config';
import { destinationBase } from '../destination-config.js';

/** Any HTTP endpoint taking the AlertRecord as JSON; with `hmacSecret` each request is signed. */
export const webhookConfigSchema = destinationBase({ perSecond: 5 }).extend({
  type: z.literal('webhook'),
  url: secret(),
  hmacSecret: secret().optional(),
  headers: z.record(z.string(), z.string()).default({}),
});

export type WebhookConfig = z.infer<typeof webhookConfigSchema>;
