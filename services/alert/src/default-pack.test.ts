import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatProblems, loadRuleSources, readRuleSources } from './rules/load-rules.js';
import { runRuleTests } from './engine/run-rule-tests.js';

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
