import type { Severity } from '@kaudit/audit-schema';
import type { Predicate, Scalar } from './compile-condition.js';
import type { RuleTestSpec } from './rule-schema.js';

/** A rule ready to evaluate: conditions compiled, lists and macros expanded, durations in ms. */
export interface CompiledRule {
  id: string;
  name: string;
  description: string;
  severity: Severity;
  tags: readonly string[];
  output: string;
  source: { file: string; line: number };
  match: Predicate;
  /** True when any structured exception exempts the record. */
  excepted: Predicate;
  threshold?: { count: number; windowMs: number; groupBy: readonly string[]; distinct?: string };
  sequence?: { steps: readonly { name: string; match: Predicate }[]; windowMs: number; by: readonly string[] };
  dedup?: { windowMs: number; by: readonly string[] };
  tests: readonly RuleTestSpec[];
  /** `match` asks roleRefPowerful: a binding seen before its role's fact is evaluated again when it arrives. */
  usesRoleFacts?: boolean;
  /**
   * Values the verb / resource must have for `match` (or, without one, some sequence step) to
   * hold; absent = any. Lets the engine skip rules a record cannot match.
   */
  prefilter?: { verb?: ReadonlySet<Scalar>; resource?: ReadonlySet<Scalar> };
}
