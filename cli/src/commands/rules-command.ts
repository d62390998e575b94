import { resolve } from 'node:path';
import type { Command } from 'commander';
import { formatProblems, loadRuleSources, readRuleSources, runRuleTests } from '@kaudit/alert';
import type { CliDeps } from '../build-program.js';

/**
 * `kaudit rules lint [dir]` and `kaudit rules test [dir]`: offline checks of a rules directory for
 * users' CI. Both exit non-zero on any problem; the default is the repository's own pack.
 */
export function registerRulesCommand(program: Command, deps: CliDeps): void {
  const rules = program.command('rules').description('validate and test alert rules (YAML) offline');
  const dirOf = (dir: string | undefined) => resolve(dir ?? resolve(deps.paths.root, 'rules'));

  rules
    .command('lint')
    .argument('[dir]', 'rules directory or file (default: the bundled rules/)')
    .description('validate rule files: schema, lists, macros, field names, templates; file:line errors')
    .action((dir: string | undefined) => {
      const { rules: loaded, problems } = loadRuleSources(readRuleSources(dirOf(dir)));
      if (problems.length > 0) {
        deps.out(formatProblems(problems));
        deps.out(`${problems.length} problem(s)`);
        deps.setExitCode(1);
        return;
      }
      deps.out(`${loaded.length} rule(s) OK`);
    });

  rules
    .command('test')
    .argument('[dir]', 'rules directory or file (default: the bundled rules/)')
    .option('--json', 'machine-readable results')
    .description("run every rule's positive and negative test events offline; pass/fail per rule")
    .action((dir: string | undefined, opts: { json?: boolean }) => {
      const { rules: loaded, problems } = loadRuleSources(readRuleSources(dirOf(dir)));
      if (problems.length > 0) {
        deps.out(formatProblems(problems));
        deps.setExitCode(1);
        return;
      }
      const results = loaded.flatMap(runRuleTests);
      const failed = results.filter((r) => !r.passed);
      if (opts.json) deps.out(JSON.stringify(results, null, 2));
      else {
        for (const rule of loaded) {
          const mine = results.filter((r) => r.ruleId === rule.id);
          const bad = mine.filter((r) => !r.passed);
          deps.out(`${bad.length === 0 ? 'PASS' : 'FAIL'}  ${rule.id}  (${mine.length} test(s))`);
          for (const b of bad) deps.out(`      ${b.source}  ${b.test}: ${b.detail}`);
        }
        deps.out(`${loaded.length - new Set(failed.map((f) => f.ruleId)).size}/${loaded.length} rule(s) passed`);
      }
      if (failed.length > 0) deps.setExitCode(1);
    });
}
