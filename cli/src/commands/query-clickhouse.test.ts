import { describe, expect, it } from 'vitest';
import { queryTarget } from './query-clickhouse.js';

const local = () => ({ database: 'kaudit', query: { user: 'kaudit_query', password: 'local-pw' }, sink: { user: 'kaudit_sink', password: 'sink-pw' } });
// The password is a Secret (never printed); these tests compare what would be sent.
const sent = (t: ReturnType<typeof queryTarget>) => ({ ...t, password: t.password?.reveal() ?? '' });

describe('queryTarget: who the CLI queries ClickHouse as', () => {
  it('is the query user with the local engine password when nothing is set', () => {
    expect(sent(queryTarget({}, local))).toEqual({ url: 'http://127.0.0.1:8123', username: 'kaudit_query', password: 'local-pw' });
  });
  it('honours CLICKHOUSE_USER/CLICKHOUSE_PASSWORD over the KAUDIT_QUERY_* pair', () => {
    expect(sent(queryTarget({ CLICKHOUSE_USER: 'analyst', CLICKHOUSE_PASSWORD: 'a', KAUDIT_QUERY_CLICKHOUSE_USER: 'q', KAUDIT_QUERY_CLICKHOUSE_PASSWORD: 'b' }, local))).toMatchObject({ username: 'analyst', password: 'a' });
    expect(sent(queryTarget({ KAUDIT_QUERY_CLICKHOUSE_USER: 'q', KAUDIT_QUERY_CLICKHOUSE_PASSWORD: 'b' }, local))).toMatchObject({ username: 'q', password: 'b' });
  });
  it('never sends the local engine password to an external ClickHouse or for another user', () => {
    expect(sent(queryTarget({ CLICKHOUSE_URL: 'http://ch.example:8123' }, local))).toEqual({ url: 'http://ch.example:8123', username: 'kaudit_query', password: '' });
    expect(sent(queryTarget({ CLICKHOUSE_USER: 'default' }, local))).toMatchObject({ username: 'default', password: '' });
  });
  it('reads the CA and client certificate for an https ClickHouse (issue 13), and keeps the password out of JSON', () => {
    const t = queryTarget({ CLICKHOUSE_URL: 'https://ch.example:8443', CLICKHOUSE_PASSWORD: 'pw-123', CLICKHOUSE_CA_FILE: '/ca.pem', CLICKHOUSE_CERT_FILE: '/c.pem', CLICKHOUSE_KEY_FILE: '/c.key' }, local);
    expect(t).toMatchObject({ url: 'https://ch.example:8443', caFile: '/ca.pem', certFile: '/c.pem', keyFile: '/c.key' });
    expect(JSON.stringify(t)).not.toContain('pw-123');
  });
  it('refuses a CA file with an http URL, naming the variable', () => {
    expect(() => queryTarget({ CLICKHOUSE_URL: 'http://ch.example:8123', CLICKHOUSE_CA_FILE: '/ca.pem' }, local)).toThrow(/CLICKHOUSE_CA_FILE/);
  });
});
