import { describe, expect, it } from 'vitest';
import { loadRuleSources } from '../rules/load-rules.js';
import { runRuleTests } from './run-rule-tests.js';

function rule(tests: string) {
  const { rules, problems } = loadRuleSources([
    {
      file: 'r.yaml',
      text: `rules:
  - id: del
    name: del
    severity: low
    output: "{actor.displayName} deleted {objectRef.name}"
    match: { field: verb, equals: delete }
    tests:
${tests}`,
    },
  ]);
  expect(problems).toEqual([]);
  return rules[0] as NonNullable<(typeof rules)[0]>;
}

describe('runRuleTests', () => {
  it('passes when positive and negative tests hold', () => {
    const results = runRuleTests(
      rule(`      - { name: pos, expect: 1, summaryContains: "deleted x", events: [{ record: { verb: delete, objectRef: { name: x } } }] }
      - { name: neg, expect: 0, events: [{ record: { verb: get } }] }
`),
    );
    expect(results.map((r) => r.passed)).toEqual([true, true]);
  });

  it('fails on a wrong count, a wrong summary, an invalid event, or a missing negative test', () => {
    const results = runRuleTests(
      rule(`      - { name: wrong count, expect: 2, events: [{ record: { verb: delete } }] }
      - { name: wrong summary, expect: 1, summaryContains: nope, events: [{ record: { verb: delete } }] }
      - { name: invalid, expect: 1, events: [{ record: { response: { code: "403" } } }] }
`),
    );
    expect(results.map((r) => [r.test, r.passed])).toEqual([
      ['wrong count', false],
      ['wrong summary', false],
      ['invalid', false],
      ['(coverage)', false],
    ]);
    expect(results[2]?.detail).toContain('invalid test event');
  });
});
