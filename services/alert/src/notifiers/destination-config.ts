import { z } from 'zod';
import { SEVERITIES } from '@kaudit/audit-schema';

/** Which alerts go to a destination; every given criterion must hold, any value of a list may match. */
export const routeSchema = z
  .strictObject({
    minSeverity: z.enum(SEVERITIES).optional(),
    /** Rule ids; `*` wildcards allowed (`k8s-rbac-*`). */
    rules: z.array(z.string().min(1)).optional(),
    tags: z.array(z.string().min(1)).optional(),
    clusters: z.array(z.string().min(1)).optional(),
    /** Matches the owning team of the touched namespace, or the actor's team. */
    teams: z.array(z.string().min(1)).optional(),
  })
  .default({});

export type Route = z.infer<typeof routeSchema>;

/** Fields every notifier config has; each notifier's config.ts extends it with a `type` literal. */
export function destinationBase(defaults: { perSecond: number }) {
  return z.object({
    /** Unique; names the delivery consumer group, so renaming a destination restarts its offsets. */
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes'),
    route: routeSchema,
    rateLimit: z
      .strictObject({ perSecond: z.number().positive(), burst: z.number().int().min(1) })
      .default({ perSecond: defaults.perSecond, burst: 1 }),
    retry: z
      .strictObject({
        maxAttempts: z.number().int().min(1).max(20),
        initialBackoffMs: z.number().int().min(1),
        maxBackoffMs: z.number().int().min(1),
      })
      .default({ maxAttempts: 6, initialBackoffMs: 500, maxBackoffMs: 30_000 }),
  });
}
