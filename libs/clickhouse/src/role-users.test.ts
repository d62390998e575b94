import { describe, expect, it } from 'vitest';
import { roleUserSpecs, roleUserStatements, sha256Hex } from './role-users.js';

describe('roleUserSpecs / roleUserStatements', () => {
  const [query, sink] = roleUserSpecs({ database: 'kaudit', queryUser: 'kaudit_query', sinkUser: 'kaudit_sink' });

  it('grants the query user SELECT on the kaudit database only, readonly=1 held constant', () => {
    expect(query?.grants).toEqual([{ privileges: 'SELECT', on: 'kaudit.*' }]);
    expect(query?.settings[0]).toEqual({ name: 'readonly', value: 1, constant: true });
  });

  it('grants the sink user INSERT and SELECT on the tables it writes, and the query ids of running queries, nothing more', () => {
    expect(sink?.grants).toEqual([
      { privileges: 'SELECT, INSERT', on: 'kaudit.audit_events' },
      { privileges: 'SELECT, INSERT', on: 'kaudit.alerts' },
      { privileges: 'SELECT(query_id)', on: 'system.processes' },
    ]);
  });

  it('revokes everything before granting, and sends only the password hash', () => {
    if (!query) throw new Error('no query spec');
    const sql = roleUserStatements(query, sha256Hex('s3cret')).join('\n');
    expect(sql).toContain(`IDENTIFIED WITH sha256_hash BY '${sha256Hex('s3cret')}'`);
    expect(sql).not.toContain('s3cret');
    expect(sql.indexOf('REVOKE ALL ON *.* FROM kaudit_query')).toBeLessThan(sql.indexOf('GRANT SELECT ON kaudit.* TO kaudit_query'));
    expect(sql).toContain("date_time_input_format = 'best_effort'");
  });

  it('refuses names that are not plain identifiers (they are spliced into SQL and XML)', () => {
    expect(() => roleUserSpecs({ database: 'kaudit; DROP TABLE x', queryUser: 'q', sinkUser: 's' })).toThrow(/plain identifier/);
    expect(() => roleUserSpecs({ database: 'kaudit', queryUser: "q' OR '", sinkUser: 's' })).toThrow(/query user/);
    expect(() => roleUserSpecs({ database: 'kaudit', queryUser: 'same', sinkUser: 'same' })).toThrow(/must differ/);
  });

  it('in cluster mode creates the users ON CLUSTER and grants the sink the local tables its Distributed inserts write', () => {
    const [q, k] = roleUserSpecs({ database: 'kaudit', queryUser: 'kaudit_query', sinkUser: 'kaudit_sink', clusterTables: true });
    expect(k?.grants.map((g) => g.on)).toEqual(['kaudit.audit_events', 'kaudit.audit_events_local', 'kaudit.alerts', 'kaudit.alerts_local', 'system.processes']);
    if (!q) throw new Error('no query spec');
    const sql = roleUserStatements(q, sha256Hex('s3cret'), 'prod');
    for (const s of sql) expect(s).toMatch(/^(CREATE|ALTER) (SETTINGS PROFILE|USER) (IF NOT EXISTS )?kaudit_query(_profile)? ON CLUSTER prod|^REVOKE ON CLUSTER prod ALL|^GRANT ON CLUSTER prod SELECT ON kaudit\.\* TO kaudit_query$/);
    expect(() => roleUserStatements(q, null, 'prod; DROP')).toThrow(/plain identifier/);
  });
});
