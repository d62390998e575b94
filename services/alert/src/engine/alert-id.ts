import { createHash } from 'node:crypto';

/**
 * Deterministic alert id: the same rule, group key and window start always give the same id, so
 * re-processing after a crash re-produces the same alert rather than a new one, and downstream
 * (the sink's table, the delivery workers, PagerDuty's dedup_key, Opsgenie's alias) folds duplicates.
 */
export function alertId(ruleId: string, groupKey: string, windowStartUs: number): string {
  return createHash('sha256').update(`${ruleId}\n${groupKey}\n${windowStartUs}`).digest('hex').slice(0, 32);
}
