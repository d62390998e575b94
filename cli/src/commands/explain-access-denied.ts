import { TEAM_TABLES } from '@kaudit/clickhouse';
import { KauditError } from '@kaudit/errors';

/**
 * A team-scoped reader (issue 17) can read only its team database's two filtered views, so a question that
 * reads anything else is refused by design — `kaudit ask load` reads the per-minute rollups, which have no
 * namespace column to filter by. ClickHouse says "unknown table" (60) or "not enough privileges" (497)
 * without saying why; say so, rather than leave it looking like a broken install.
 */
export function explainAccessDenied(err: KauditError): KauditError {
  const code = err.details.clickhouseCode;
  if (code !== '497' && code !== '60') return err;
  const table = /(?:ON |Table |identifier [`'"]?)([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)/.exec(err.message);
  if (!table || table[1] === 'system' || (TEAM_TABLES as readonly string[]).includes(table[2] ?? '')) return err;
  // 60 is a plain typo for anyone but a team user, whose database holds only the team views.
  if (code === '60' && !/_team_/.test(table[1] ?? '')) return err;
  return new KauditError(
    'CLICKHOUSE_REJECTED',
    `${err.message}\n` +
      `${table[1]}.${table[2]} cannot be read here. Team-scoped users (kaudit_team_*) read only ${TEAM_TABLES.join(' and ')} of their team database (CLICKHOUSE_DATABASE=<db>_team_<team>), ` +
      `filtered to their team's namespaces; the per-minute rollups (audit_rollup_1m*, audit_load_1m, read by \`kaudit ask load\`) have no namespace column, so they are for fleet-wide users only (docs/operating.md, "Team-scoped access").`,
    { cause: err, details: err.details },
  );
}
