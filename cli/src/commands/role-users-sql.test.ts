import { describe, expect, it } from 'vitest';
import { roleUsersSql } from './setup-command.js';

describe('kaudit setup --print-sql', () => {
  it('prints the role users ON CLUSTER, with the local tables granted to the sink, when CLICKHOUSE_CLUSTER is set', () => {
    const sql = roleUsersSql('kaudit', { queryUser: 'kaudit_query', sinkUser: 'kaudit_sink' }, 'prod');
    expect(sql).toContain('CREATE USER IF NOT EXISTS kaudit_sink ON CLUSTER prod');
    expect(sql).toContain('GRANT ON CLUSTER prod SELECT, INSERT ON kaudit.audit_events_local TO kaudit_sink;');
    expect(roleUsersSql('kaudit', { queryUser: 'kaudit_query', sinkUser: 'kaudit_sink' })).not.toMatch(/ON CLUSTER|_local/);
  });
});
