import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatProblems, loadRuleSources, readRuleSources } from './rules/load-rules.js';
import type { AuditRecord } from '@kaudit/audit-schema';
import { RuleEngine } from './engine/rule-engine.js';
import { buildTestRecords, runRuleTests } from './engine/run-rule-tests.js';

const PACK = fileURLToPath(new URL('../../../rules/', import.meta.url));

describe('the default rule pack (rules/)', () => {
  const { rules, problems } = loadRuleSources(readRuleSources(PACK));

  it('lints clean', () => {
    expect(formatProblems(problems)).toBe('');
    expect(rules.length).toBeGreaterThan(30);
  });

  it('passes every rule’s positive and negative test events', () => {
    const failed = rules.flatMap(runRuleTests).filter((r) => !r.passed);
    expect(failed.map((f) => `${f.source} ${f.ruleId} / ${f.test}: ${f.detail}`)).toEqual([]);
  });
});

describe('rule indexing by verb and resource (the prefilter)', () => {
  const { rules } = loadRuleSources(readRuleSources(PACK));

  it('indexes most of the pack', () => {
    expect(rules.filter((r) => r.prefilter).length).toBeGreaterThan(rules.length / 2);
  });

  it('changes no outcome: every rule’s test events through the whole pack give the same alerts with and without it', () => {
    const unindexed = rules.map(({ prefilter: _, ...rule }) => rule);
    const run = (pack: typeof rules, records: AuditRecord[]) => {
      const engine = new RuleEngine({ rules: pack, nowUs: () => 0 });
      const alerts = records.flatMap((r) => engine.process(r));
      return [...alerts, ...engine.flush({ idleNowUs: Number.MAX_SAFE_INTEGER })];
    };
    let compared = 0;
    for (const rule of rules) {
      for (const test of rule.tests) {
        const records = buildTestRecords(rule.id, test);
        const expected = run(unindexed, records);
        expect(run(rules, records), `${rule.id} / ${test.name}`).toEqual(expected);
        compared += expected.length;
      }
    }
    expect(compared).toBeGreaterThan(30); // the comparison saw alerts, not only silence
  });
});
