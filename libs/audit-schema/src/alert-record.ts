import { z } from 'zod';

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;

/**
 * An alert as written to `kaudit.alerts.v1` (JSON, key = alertId) by the alert service and stored
 * in ClickHouse `alerts` by the sink. `alertId` is deterministic (rule + dedup key + window start),
 * so a replay after a restart produces the same id and notifiers can refuse duplicates.
 */
export const alertRecordSchema = z.object({
  alertId: z.string().min(1),
  ruleId: z.string().min(1),
  ruleName: z.string(),
  severity: z.enum(SEVERITIES),
  /** e.g. MITRE ATT&CK technique ids `T1609`. */
  tags: z.array(z.string()),
  cluster: z.string(),
  /** The rule's output template rendered for the (first) matching event. */
  summary: z.string(),
  /** How many matching events this alert folds together (dedup window or threshold count). */
  count: z.number().int().min(1),
  firstSeenUs: z.number().int(),
  lastSeenUs: z.number().int(),
  actor: z.object({ id: z.string(), displayName: z.string(), team: z.string().nullable() }),
  objectRef: z.object({ resource: z.string().nullable(), namespace: z.string().nullable(), name: z.string().nullable() }),
  ownerTeam: z.string().nullable(),
  /** A bounded sample of the audit IDs that triggered it (for drill-down in SQL). */
  auditIDs: z.array(z.string()),
  createdUs: z.number().int(),
  /**
   * True on a dedup window's closing follow-up: the first occurrence was already notified under the
   * same alertId (PagerDuty dedup_key / Opsgenie alias update that incident); `count` is the
   * window's total. Absent on every other alert, and on records written before it existed.
   */
  followUp: z.boolean().optional(),
  /**
   * Set by a destination worker only, on an alert it delivers more than ALERT_MAX_AGE_MS after
   * `createdUs` (e.g. after an outage): how late, in ms. Never on kaudit.alerts.v1; optional, so
   * every record written before it existed still decodes.
   */
  lateByMs: z.number().int().min(0).optional(),
});

export type AlertRecord = z.infer<typeof alertRecordSchema>;
export type Severity = (typeof SEVERITIES)[number];
