import { describe, expect, it } from 'vitest';
import { roleUserStatements, sha256Hex } from './role-users.js';
import { namespaceScopeCondition, teamDatabase, teamPasswordVariable, teamUserName, teamUserSpecs, teamViewStatements } from './team-users.js';

const NAMESPACES = { web: 'web', 'web-*': 'web', payments: 'payments', checkout: 'payments', '*': 'platform' };

describe('team users (issue 17)', () => {
  it('filters an exact-names-only map with a plain IN list (cluster-scoped rows are never in it)', () => {
    expect(namespaceScopeCondition({ payments: 'payments', checkout: 'payments', web: 'web', '': 'web' }, 'payments')).toBe("object_namespace IN ('payments', 'checkout')");
  });

  it('with globs, decides as enrich does: exact names first, then globs in file order; never the cluster scope', () => {
    expect(namespaceScopeCondition(NAMESPACES, 'platform')).toBe(
      "object_namespace != '' AND multiIf(object_namespace IN ('web', 'payments', 'checkout'), 0, object_namespace ILIKE 'web-%', 0, object_namespace ILIKE '%', 1, 0)",
    );
    // Only what decides this team's rows is spelled out (a team can read its view's definition): not payments' names,
    // which no glob of web's matches, nor the catch-all tried after web's last glob.
    expect(namespaceScopeCondition(NAMESPACES, 'web')).toBe("object_namespace != '' AND multiIf(object_namespace IN ('web'), 1, object_namespace ILIKE 'web-%', 1, 0)");
    expect(namespaceScopeCondition(NAMESPACES, 'payments')).toBe("object_namespace IN ('payments', 'checkout')");
    expect(namespaceScopeCondition({ 'web-admin': 'platform', 'web-*': 'web' }, 'web')).toBe("object_namespace != '' AND multiIf(object_namespace IN ('web-admin'), 0, object_namespace ILIKE 'web-%', 1, 0)");
    // LIKE's own wildcards in a namespace glob are matched literally.
    expect(namespaceScopeCondition({ 'a_b*': 't' }, 't')).toBe("object_namespace != '' AND multiIf(object_namespace ILIKE 'a\\\\_b%', 1, 0)");
    expect(namespaceScopeCondition({ "o'brien": 't' }, 't')).toBe("object_namespace IN ('o\\'brien')");
  });

  it('refuses a team that owns no namespace, and team names that would share a user', () => {
    expect(() => namespaceScopeCondition(NAMESPACES, 'marketing')).toThrow(/team "marketing" owns no namespace .*teams there: payments, platform, web/);
    expect(() => teamUserSpecs({ database: 'kaudit', teams: ['a-b', 'a_b'], namespaces: { x: 'a-b', y: 'a_b' } })).toThrow(/would both be ClickHouse user kaudit_team_a_b/);
  });

  it('names each team its user, database and password variable', () => {
    expect(teamUserName('payments-team')).toBe('kaudit_team_payments_team');
    expect(teamDatabase('kaudit', 'payments-team')).toBe('kaudit_team_payments_team');
    expect(teamPasswordVariable('payments-team')).toBe('KAUDIT_TEAM_PAYMENTS_TEAM_CLICKHOUSE_PASSWORD');
  });

  it('grants a team user its three views only, read-only, and creates the views (definer rights) before the grants', () => {
    const [web] = teamUserSpecs({ database: 'kaudit', teams: ['web'], namespaces: NAMESPACES });
    if (!web) throw new Error('no spec');
    expect(web.grants).toEqual([{ privileges: 'SELECT', on: 'kaudit_team_web.audit_events' }, { privileges: 'SELECT', on: 'kaudit_team_web.alerts' }, { privileges: 'SELECT', on: 'kaudit_team_web.audit_forbidden' }]);
    expect(web.settings[0]).toEqual({ name: 'readonly', value: 1, constant: true });
    expect(web.namespaces).toEqual(['web', 'web-*']);
    const views = teamViewStatements(web);
    expect(views[0]).toBe('CREATE DATABASE IF NOT EXISTS kaudit_team_web');
    expect(views[1]).toMatch(/^CREATE OR REPLACE VIEW kaudit_team_web\.audit_events DEFINER = CURRENT_USER SQL SECURITY DEFINER AS SELECT \* FROM kaudit\.audit_events WHERE object_namespace != ''/);
    expect(teamViewStatements(web, 'prod')[2]).toMatch(/^CREATE OR REPLACE VIEW kaudit_team_web\.alerts ON CLUSTER prod DEFINER/);
    const user = roleUserStatements(web, sha256Hex('pw')).join('\n');
    expect(user).not.toMatch(/ON kaudit\./);
    expect(user).toContain('GRANT SELECT ON kaudit_team_web.alerts TO kaudit_team_web');
  });
});
