import { auditRecordSchema, sampleAuditRecord, type AlertRecord, type AuditRecord } from '@kaudit/audit-schema';
import type { CompiledRule } from '../rules/compiled-rule.js';
import type { RuleTestSpec } from '../rules/rule-schema.js';
import { roleFactOf, type RoleFacts } from '../rules/role-fact.js';
import { PendingBindings } from './pending-bindings.js';
import { RuleEngine } from './rule-engine.js';

export interface RuleTestResult {
  ruleId: string;
  test: string;
  source: string;
  passed: boolean;
  /** Why it failed (or the alert count when it passed). */
  detail: string;
}

/**
 * How long (event time) a test's binding waits for its role's fact, as the service's default
 * ALERT_ROLE_FACT_GRACE_MS does on the wall clock.
 */
export const TEST_ROLE_FACT_GRACE_MS = 60_000;

/** Test time zero: fixed, so results never depend on when the tests run. */
const T0_US = 1_763_800_000_000_000;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep-merges a partial record over the sample; arrays and scalars replace, `{i}` becomes the repeat index. */
function merge(base: unknown, patch: unknown, index: number): unknown {
  if (typeof patch === 'string') return patch.replaceAll('{i}', String(index));
  if (Array.isArray(patch)) return patch.map((p) => merge(undefined, p, index));
  if (!isPlainObject(patch)) return patch;
  const out: Record<string, unknown> = isPlainObject(base) ? { ...base } : {};
  for (const [k, v] of Object.entries(patch)) out[k] = merge(out[k], v, index);
  return out;
}

/** Expands a test's event specs into valid canonical records in time order. */
export function buildTestRecords(ruleId: string, test: RuleTestSpec): AuditRecord[] {
  const records: AuditRecord[] = [];
  let nextAtS = 0;
  let n = 0;
  for (const event of test.events) {
    const startS = event.at ?? nextAtS;
    for (let i = 0; i < event.repeat; i++) {
      const atUs = T0_US + Math.round((startS + i * event.every) * 1_000_000);
      const defaults = { ...sampleAuditRecord(), auditID: `test-${ruleId}-${n}`, requestReceivedUs: atUs, stageUs: atUs + 10_000, ingestedUs: atUs + 500_000 };
      // Parsing catches test events that could never come from enrich (e.g. response.code as a string).
      records.push(auditRecordSchema.parse(merge(defaults, event.record, i)));
      n++;
    }
    nextAtS = startS + (event.repeat - 1) * event.every + 1;
  }
  return records.sort((a, b) => a.requestReceivedUs - b.requestReceivedUs);
}

/** Runs one rule's tests offline: a fresh engine per test, every window closed at the end. */
export function runRuleTests(rule: CompiledRule): RuleTestResult[] {
  const source = `${rule.source.file}:${rule.source.line}`;
  if (rule.tests.length === 0) return [{ ruleId: rule.id, test: '(none)', source, passed: false, detail: 'the rule has no test events' }];
  const results: RuleTestResult[] = rule.tests.map((test) => {
    const base = { ruleId: rule.id, test: test.name, source };
    let records: AuditRecord[];
    try {
      records = buildTestRecords(rule.id, test);
    } catch (err) {
      return { ...base, passed: false, detail: `invalid test event: ${(err as Error).message.slice(0, 500)}` };
    }
    const engine = new RuleEngine({ rules: [rule], nowUs: () => T0_US });
    const alerts: AlertRecord[] = [];
    // Role facts as the service learns them: from the test's own role writes, in event order; a
    // binding before its role's write waits up to the grace, as it does across partitions.
    const known = new Map<string, boolean>();
    const facts: RoleFacts = { isPowerful: (key) => known.get(key) === true };
    const pending = new PendingBindings();
    const recheck = (nowMs: number) => {
      for (const b of pending.resolve(facts, nowMs).ready) alerts.push(...engine.process(b, { facts, roleFactRulesOnly: true }));
    };
    for (const r of records) {
      const nowMs = r.requestReceivedUs / 1000;
      // Graces that ran out before this record's time end first, as the service's ticks end them.
      recheck(nowMs);
      alerts.push(...engine.process(r, { facts }));
      const fact = roleFactOf(r);
      if (fact) known.set(fact.key, fact.powerful.length > 0);
      if (rule.usesRoleFacts === true) pending.holdIfUnresolved(r, facts, nowMs + TEST_ROLE_FACT_GRACE_MS);
      recheck(nowMs);
    }
    alerts.push(...engine.flush({ idleNowUs: Number.MAX_SAFE_INTEGER }));
    // `expect` counts incidents: a dedup window's follow-up (same alert id, its summary starting
    // with the first's) updates its first alert; `count` and the summary are what it ends with.
    const incidents = new Map<string, AlertRecord>();
    for (const a of alerts) incidents.set(a.alertId, a);
    const problems: string[] = [];
    if (incidents.size !== test.expect) problems.push(`expected ${test.expect} alert(s), got ${incidents.size}`);
    const first = incidents.values().next().value;
    if (test.summaryContains !== undefined && !first?.summary.includes(test.summaryContains)) {
      problems.push(`summary ${JSON.stringify(first?.summary ?? null)} does not contain ${JSON.stringify(test.summaryContains)}`);
    }
    if (test.count !== undefined && first?.count !== test.count) problems.push(`expected count ${test.count}, got ${first?.count ?? 'no alert'}`);
    return { ...base, passed: problems.length === 0, detail: problems.length === 0 ? `${incidents.size} alert(s)` : problems.join('; ') };
  });
  const hasPositive = rule.tests.some((t) => t.expect > 0);
  const hasNegative = rule.tests.some((t) => t.expect === 0);
  if (!hasPositive || !hasNegative) {
    results.push({ ruleId: rule.id, test: '(coverage)', source, passed: false, detail: 'every rule needs a positive (expect > 0) and a negative (expect: 0) test' });
  }
  return results;
}
