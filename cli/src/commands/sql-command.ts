import type { Command } from 'commander';
import { KauditError } from '@kaudit/errors';
import type { CliDeps } from '../build-program.js';
import { addScopeOptions, runAndPrint, scopeFrom, type ScopeOptions } from './ask-command.js';

function collectParam(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new KauditError('CONFIG_INVALID', `--param "${value}" must be name=value`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

/**
 * `kaudit sql "<query>"`: any query the read-only query user may run (readonly=1 and SELECT on the kaudit
 * database only, enforced by the server). The scope options become query
 * parameters the query may use — {cluster:String}, {since:DateTime64(6)}, {until:DateTime64(6)}, {db:Identifier},
 * {limit:UInt32} — and `--param name=value` adds more, so values never need to be pasted into the SQL.
 */
export function registerSqlCommand(program: Command, deps: CliDeps): void {
  addScopeOptions(program.command('sql').argument('<query>', 'SQL, e.g. "SELECT verb, count() FROM kaudit.audit_events WHERE event_time >= {since:DateTime64(6)} GROUP BY verb"'), '24h')
    .description('run a read-only SQL query against the audit store')
    .option('--param <name=value>', 'a query parameter for {name:Type} (repeatable)', collectParam, {})
    .action(async (query: string, opts: ScopeOptions & { param: Record<string, string> }) => {
      const scope = scopeFrom(deps, opts, '24h');
      await runAndPrint(
        deps,
        { query, params: { db: scope.database, cluster: scope.cluster, since: scope.since, until: scope.until, limit: scope.limit, ...opts.param } },
        opts.json,
      );
    });
}
