import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KauditError } from '@kaudit/errors';
import { repoPaths } from '../repo-paths.js';
import { explainAccessDenied } from './explain-access-denied.js';
import { queryTarget } from './query-clickhouse.js';
import { localTeamScopes, teamUsersFromEnv, teamUsersSql } from './team-users.js';

const tmp = mkdtempSync(join(tmpdir(), 'kaudit-teams-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('team users configuration (issue 17)', () => {
  it('the local stack gets a user per team of the demo directory enrich runs with', () => {
    const scopes = localTeamScopes({ env: {}, paths: repoPaths() });
    expect(new Set(Object.values(scopes?.namespaces ?? {}))).toEqual(new Set(['web', 'payments', 'data', 'sre', 'platform']));
    expect(localTeamScopes({ env: { ENRICH_DIRECTORY_FILE: join(tmp, 'people.csv') }, paths: repoPaths() })).toBeUndefined();
  });

  it('reads the teams, the directory and one password variable per team from the environment', () => {
    const file = join(tmp, 'directory.yaml');
    writeFileSync(file, 'identities: []\nnamespaces:\n  shop: web-shop\n  pay: payments\n');
    expect(teamUsersFromEnv({})).toBeUndefined();
    expect(teamUsersFromEnv({ KAUDIT_TEAM_USERS: ' web-shop , payments', ENRICH_DIRECTORY_FILE: file, KAUDIT_TEAM_WEB_SHOP_CLICKHOUSE_PASSWORD: 's' })).toEqual({
      teams: ['web-shop', 'payments'], namespaces: { shop: 'web-shop', pay: 'payments' }, directoryFile: file, passwords: { 'web-shop': 's', payments: undefined },
    });
    expect(() => teamUsersFromEnv({ KAUDIT_TEAM_USERS: 'web' })).toThrow(/ENRICH_DIRECTORY_FILE is not/);
    expect(() => teamUsersFromEnv({ KAUDIT_TEAM_USERS: 'web', ENRICH_DIRECTORY_FILE: join(tmp, 'people.csv') })).toThrow(/CSV, which has no namespaces: map/);
    expect(() => teamUsersFromEnv({ KAUDIT_TEAM_USERS: 'web', ENRICH_DIRECTORY_FILE: join(tmp, 'nope.yaml') })).toThrow(/does not exist/);
  });

  it('names the directory when a listed team owns no namespace', () => {
    const target = { teams: ['marketing'], namespaces: { pay: 'payments' }, directoryFile: 'dir.yaml', passwords: {} };
    expect(() => teamUsersSql('kaudit', target)).toThrow(/KAUDIT_TEAM_USERS with dir\.yaml: team "marketing" owns no namespace/);
  });
});

describe('querying as a team', () => {
  const local = () => ({
    database: 'kaudit',
    query: { user: 'kaudit_query', password: 'q-pw' },
    sink: { user: 'kaudit_sink', password: 's-pw' },
    teams: { namespaces: { web: 'web' }, users: { web: { user: 'kaudit_team_web', password: 'web-pw' } } },
  });

  it('finds a local team user’s password itself, and never sends it to an external ClickHouse', () => {
    expect(queryTarget({ CLICKHOUSE_USER: 'kaudit_team_web' }, local).password?.reveal()).toBe('web-pw');
    expect(queryTarget({ CLICKHOUSE_USER: 'kaudit_team_web', CLICKHOUSE_URL: 'http://ch.example:8123' }, local).password?.reveal() ?? '').toBe('');
  });

  it('says why a team user may not read the rollups, and leaves every other failure as it was', () => {
    const denied = new KauditError('CLICKHOUSE_UNAVAILABLE', "query failed: kaudit_team_web: Not enough privileges. To execute this query, it's necessary to have the grant SELECT(minute) ON kaudit.audit_rollup_1m_v2. (ACCESS_DENIED)", { details: { clickhouseCode: '497' } });
    expect(explainAccessDenied(denied)).toMatchObject({ code: 'CLICKHOUSE_REJECTED', message: expect.stringMatching(/kaudit\.audit_rollup_1m_v2 cannot be read here\. Team-scoped users/) });
    const unknown = new KauditError('CLICKHOUSE_REJECTED', 'query failed: Unknown table expression identifier \'kaudit_team_web.audit_rollup_1m_v2\'', { details: { clickhouseCode: '60' } });
    expect(explainAccessDenied(unknown).message).toMatch(/no namespace column/);
    const typo = new KauditError('CLICKHOUSE_REJECTED', "query failed: Unknown table expression identifier 'kaudit.audit_evnts'", { details: { clickhouseCode: '60' } });
    expect(explainAccessDenied(typo)).toBe(typo);
    const systemTable = new KauditError('CLICKHOUSE_UNAVAILABLE', 'query failed: Not enough privileges … ON system.users', { details: { clickhouseCode: '497' } });
    expect(explainAccessDenied(systemTable)).toBe(systemTable);
  });
});
