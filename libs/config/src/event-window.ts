import { z } from 'zod';
import { loadConfig, type EnvMap } from './load-config.js';

/**
 * Bounds of KAUDIT_RETENTION_DAYS. The floor leaves room for the day of headroom ingest keeps before
 * the TTL (an event must arrive with time to spare). The ceiling keeps the TTL date of any accepted
 * event inside ClickHouse's DateTime range, which ends on 2106-02-07: `toDateTime(event_time) +
 * toIntervalDay(N)` past that wraps around to a date in the past, and the TTL then deletes every row
 * on arrival. 10 000 days (~27 years) stays inside it for events received before 2079.
 */
export const RETENTION_DAYS_MIN = 2;
export const RETENTION_DAYS_MAX = 10_000;
export const RETENTION_DAYS_DEFAULT = 365;

/**
 * Which event times kaudit keeps — ONE definition, used by setup (the TTL of audit_events and the
 * rollups), ingest and import (which refuse what the TTL would delete on arrival) and enrich (which
 * applies the same rule, so it never dead-letters what ingest acknowledged).
 */
export const eventWindowSchema = z.object({
  retentionDays: z.coerce
    .number()
    .int('a whole number of days')
    .min(RETENTION_DAYS_MIN, `at least ${RETENTION_DAYS_MIN} days`)
    .max(RETENTION_DAYS_MAX, `at most ${RETENTION_DAYS_MAX} days (ClickHouse's DateTime, which holds the TTL date, ends in 2106)`)
    .default(RETENTION_DAYS_DEFAULT),
  /** How far ahead of the receiving clock an event time may be (apiserver clock skew). */
  maxFutureSkewMs: z.coerce.number().int().min(0).max(86_400_000, 'at most one day').default(15 * 60_000),
});

export type EventWindowConfig = z.output<typeof eventWindowSchema>;

/** The environment variables of the event window, for a service's env map, under `path` in its config. */
export function eventWindowEnv(path: string): EnvMap {
  return { [`${path}.retentionDays`]: 'KAUDIT_RETENTION_DAYS', [`${path}.maxFutureSkewMs`]: 'KAUDIT_MAX_FUTURE_SKEW_MS' };
}

const eventWindowOnly = z.object({ eventWindow: eventWindowSchema });

/** The event window alone from the environment (for the CLI's setup and import), with the same errors as the services. */
export function loadEventWindow(env: Readonly<Record<string, string | undefined>>, name = 'config'): Readonly<EventWindowConfig> {
  return loadConfig(eventWindowOnly, { env, envMap: eventWindowEnv('eventWindow'), name }).eventWindow;
}
