import type { Command } from 'commander';
import { z } from 'zod';
import { KauditError } from '@kaudit/errors';
import type { CliDeps } from '../build-program.js';
import { addScopeOptions, queryRows, scopeFrom, type ScopeOptions } from './ask-command.js';
import { actorMutationsQuery, actorSummaryQuery, historyQuery, parseObjectArg, type AskScope } from './ask-queries.js';
import { renderTable } from './ask-table.js';
import { changeLines } from './object-history.js';

/** The columns of historyQuery this module reads (the rest pass through to --json as they are). */
const historyRowSchema = z.looseObject({
  cluster: z.string(),
  namespace: z.string(),
  verb: z.string(),
  subresource: z.string(),
  code: z.coerce.number(),
  request_object: z.string(),
  response_object: z.string(),
});

/**
 * The rows of an object's history with what each request changed (`changes`, one line per field); the
 * bodies themselves stay out of the answer (they are long; `kaudit sql` reads them).
 */
export function historyAnswer(rows: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  const events = rows.map((r, i) => {
    const parsed = historyRowSchema.safeParse(r);
    if (!parsed.success) throw new KauditError('INPUT_INVALID', `history row ${i} is not what the query returns: ${parsed.error.message}`);
    return parsed.data;
  });
  const changes = changeLines(events);
  return rows.map((r, i) => {
    const { request_object: _req, response_object: _resp, audit_id: _id, ...rest } = r;
    return { ...rest, changes: changes[i] ?? [] };
  });
}

const HISTORY_COLUMNS = ['time', 'cluster', 'namespace', 'operation', 'verb', 'code', 'who', 'account', 'client', 'changes'] as const;

/** `kaudit ask history`'s answer as text: a table, the changes of a request one per line under it. */
export function renderHistory(rows: readonly Record<string, unknown>[]): string {
  if (rows.length === 0) return '(no rows)';
  const table = renderTable(rows.map((r) => ({ ...r, changes: (r.changes as string[]).length === 0 ? '' : (r.changes as string[])[0] })), HISTORY_COLUMNS).split('\n');
  const indent = (table[0] ?? '').indexOf('CHANGES');
  const out = [table[0] ?? ''];
  rows.forEach((r, i) => {
    out.push(table[i + 1] ?? '');
    for (const line of (r.changes as string[]).slice(1)) out.push(`${' '.repeat(indent)}${line}`);
  });
  return out.join('\n');
}

export async function askHistory(deps: CliDeps, scope: AskScope, obj: { resource: string; name: string; namespace?: string }): Promise<Record<string, unknown>[]> {
  return historyAnswer(await queryRows(deps, historyQuery(scope, obj)));
}

export interface ActorAnswer {
  people: Record<string, unknown>[];
  mutations: Record<string, unknown>[];
}

export async function askActor(deps: CliDeps, scope: AskScope, who: string): Promise<ActorAnswer> {
  const [people, mutations] = await Promise.all([queryRows(deps, actorSummaryQuery(scope, who)), queryRows(deps, actorMutationsQuery(scope, who))]);
  return { people, mutations };
}

/** The person first (who, accounts, clusters, counts), then what they changed. */
export function renderActor(a: ActorAnswer, who: string): string {
  if (a.people.length === 0) return `(nobody matching "${who}" in this range)`;
  const lines = a.people.map((p) => {
    const name = [p.who, p.email ? `<${String(p.email)}>` : '', p.team ? `team ${String(p.team)}` : ''].filter(Boolean).join(' ');
    const list = (v: unknown) => (Array.isArray(v) ? v.join(', ') : String(v));
    return `${name}\n  accounts: ${list(p.accounts)}  (usernames: ${list(p.usernames)})\n  clusters: ${list(p.clusters)}\n  ${String(p.mutations)} mutations, ${String(p.reads)} reads, ${String(p.denied)} denied (403), from ${String(p.first_time)} to ${String(p.last_time)}`;
  });
  return `${lines.join('\n')}\n\nMutations (newest first):\n${renderTable(a.mutations, ['time', 'cluster', 'namespace', 'object', 'operation', 'verb', 'code', 'account', 'client', 'summary'])}`;
}

/** `ask history` and `ask actor`: an object's whole story, and a person's trail across clusters (issue 17). */
export function registerInvestigateQuestions(ask: Command, deps: CliDeps): void {
  addScopeOptions(ask.command('history').argument('<resource/name>', 'e.g. deployment/nginx, node/172.16.18.13'), '7d')
    .description('every request on one object, oldest first: who, what, result, client, and what changed')
    .option('-n, --namespace <ns>', 'only in this namespace')
    .action(async (target: string, opts: ScopeOptions & { namespace?: string }) => {
      const obj = parseObjectArg(target);
      if (!obj) throw new KauditError('CONFIG_INVALID', `"${target}" is not <resource>/<name>, e.g. deployment/nginx`);
      const rows = await askHistory(deps, scopeFrom(deps, opts, '7d'), { ...obj, ...(opts.namespace ? { namespace: opts.namespace } : {}) });
      deps.out(opts.json ? JSON.stringify(rows, null, 2) : renderHistory(rows));
    });

  addScopeOptions(ask.command('actor').argument('<who>', 'an email, a display name, an account ID or a username'), '7d')
    .description("one person's trail across clusters: their accounts, what they changed, how much they read and were denied")
    .action(async (who: string, opts: ScopeOptions) => {
      const answer = await askActor(deps, scopeFrom(deps, opts, '7d'), who);
      deps.out(opts.json ? JSON.stringify(answer, null, 2) : renderActor(answer, who));
    });
}
