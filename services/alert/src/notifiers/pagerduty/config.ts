import { z } from 'zod';
import { secret } from '@kaudit/config';
import { destinationBase } from '../destination-config.js';

/** PagerDuty Events API v2; PagerDuty throttles bursts per routing key, so ~2 events/s by default. */
export const pagerdutyConfigSchema = destinationBase({ perSecond: 2 }).extend({
  type: z.literal('pagerduty'),
  routingKey: secret(),
  eventsUrl: z.url().default('https://events.pagerduty.com/v2/enqueue'),
});

export type PagerdutyConfig = z.infer<typeof pagerdutyConfigSchema>;
