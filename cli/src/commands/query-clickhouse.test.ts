import { describe, expect, it } from 'vitest';
import { queryTarget } from './query-clickhouse.js';

const local = () => ({ database: 'kaudit', query: { user: 'kaudit_query', password: 'local-pw' }, sink: { user: 'kaudit_sink', password: 'sink-pw' } });

describe('queryTarget: who the CLI queries ClickHouse as', () => {
  it('is the query user with the local engine password when nothing is set', () => {
    expect(queryTarget({}, local)).toEqual({ url: 'http://127.0.0.1:8123', username: 'kaudit_query', password: 'local-pw' });
  });
  it('honours CLICKHOUSE_USER/CLICKHOUSE_PASSWORD over the KAUDIT_QUERY_* pair', () => {
    expect(queryTarget({ CLICKHOUSE_USER: 'analyst', CLICKHOUSE_PASSWORD: 'a', KAUDIT_QUERY_CLICKHOUSE_USER: 'q', KAUDIT_QUERY_CLICKHOUSE_PASSWORD: 'b' }, local)).toMatchObject({ username: 'analyst', password: 'a' });
    expect(queryTarget({ KAUDIT_QUERY_CLICKHOUSE_USER: 'q', KAUDIT_QUERY_CLICKHOUSE_PASSWORD: 'b' }, local)).toMatchObject({ username: 'q', password: 'b' });
  });
  it('never sends the local engine password to an external ClickHouse or for another user', () => {
    expect(queryTarget({ CLICKHOUSE_URL: 'http://ch.example:8123' }, local)).toEqual({ url: 'http://ch.example:8123', username: 'kaudit_query', password: '' });
    expect(queryTarget({ CLICKHOUSE_USER: 'default' }, local)).toMatchObject({ username: 'default', password: '' });
  });
});
