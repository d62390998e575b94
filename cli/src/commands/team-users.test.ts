import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoPaths } from '../repo-paths.js';
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
