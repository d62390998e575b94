import { z } from 'zod';
import { secret } from '@kaudit/config';
import { destinationBase } from '../destination-config.js';

/** Opsgenie Alerts API; use https://api.eu.opsgenie.com/v2/alerts for EU accounts. */
export const opsgenieConfigSchema = destinationBase({ perSecond: 5 }).extend({
  type: z.literal('opsgenie'),
  apiKey: secret(),
  alertsUrl: z.url().default('https://api.opsgenie.com/v2/alerts'),
  responders: z.array(z.strictObject({ type: z.enum(['team', 'user', 'escalation', 'schedule']), name: z.string().min(1) })).default([]),
});

export type OpsgenieConfig = z.infer<typeof opsgenieConfigSchema>;
