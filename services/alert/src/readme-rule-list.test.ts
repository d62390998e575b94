import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { CompiledRule } from './rules/compiled-rule.js';
import { loadRuleSources, readRuleSources } from './rules/load-rules.js';

const PACK = fileURLToPath(new URL('../../../rules/', import.meta.url));
const README = fileURLToPath(new URL('../../../README.md', import.meta.url));

function duration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms / 1000}s`;
}

/** The README's "Fires on" cell for a rule: what triggers it and its dedup window. */
function firesOn(rule: CompiledRule): string {
  const trigger = rule.threshold
    ? `threshold ${rule.threshold.count} in ${duration(rule.threshold.windowMs)}`
    : rule.sequence
      ? `sequence in ${duration(rule.sequence.windowMs)}`
      : 'each event';
  return rule.dedup ? `${trigger}, dedup ${duration(rule.dedup.windowMs)}` : trigger;
}

/** Rows of the README's rule table: `| \`id\` | severity | fires on | name |`. */
function readmeRows(text: string): string[] {
  return text
    .split('\n')
    .flatMap((line) => {
      const m = /^\| `([a-z0-9-]+)` \| ([a-z]+) \| ([^|]+) \| ([^|]+) \|$/.exec(line);
      return m ? [`${m[1]} | ${m[2]} | ${m[3]?.trim()} | ${m[4]?.trim()}`] : [];
    });
}

describe('the README lists the rules shipped', () => {
  const { rules } = loadRuleSources(readRuleSources(PACK));
  const readme = readFileSync(README, 'utf8');

  it('has one table row per rule of rules/, with its severity, trigger, dedup window and name', () => {
    const shipped = rules.map((r) => `${r.id} | ${r.severity} | ${firesOn(r)} | ${r.name}`).sort();
    expect(readmeRows(readme).sort()).toEqual(shipped);
  });

  it('states the number of rules the pack has', () => {
    expect(readme).toContain(`The default pack (\`rules/\`, ${rules.length} rules)`);
  });
});
