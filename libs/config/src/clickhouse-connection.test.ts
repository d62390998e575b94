import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { loadClickHouseConnection } from './clickhouse-connection.js';

describe('the ClickHouse connection every component reads', () => {
  it('takes URL, user, password (a Secret), CA, client certificate and cluster from the environment over the defaults', () => {
    const c = loadClickHouseConnection(
      { CLICKHOUSE_URL: 'https://ch:8443', CLICKHOUSE_USER: 'u', CLICKHOUSE_PASSWORD: 'pw-1', CLICKHOUSE_CA_FILE: '/ca', CLICKHOUSE_CERT_FILE: '/c', CLICKHOUSE_KEY_FILE: '/k', CLICKHOUSE_CLUSTER: 'prod' },
      { url: 'http://127.0.0.1:8123', username: 'kaudit_query' },
    );
    expect(c).toMatchObject({ url: 'https://ch:8443', username: 'u', caFile: '/ca', certFile: '/c', keyFile: '/k', cluster: 'prod' });
    expect(c.password?.reveal()).toBe('pw-1');
    expect(JSON.stringify(c)).not.toContain('pw-1');
    expect(loadClickHouseConnection({}, { url: 'http://127.0.0.1:8123', username: 'kaudit_query' })).toMatchObject({ url: 'http://127.0.0.1:8123', username: 'kaudit_query' });
  });

  it('lists every problem at once: not http(s), a certificate without its key, TLS files with http, a cluster that is not an identifier', () => {
    let err: unknown;
    try {
      loadClickHouseConnection({ CLICKHOUSE_URL: 'ftp://ch', CLICKHOUSE_CERT_FILE: '/c', CLICKHOUSE_CLUSTER: 'a b' }, { url: 'http://x' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    for (const env of ['CLICKHOUSE_URL', 'CLICKHOUSE_KEY_FILE', 'CLICKHOUSE_CERT_FILE', 'CLICKHOUSE_CLUSTER']) expect((err as Error).message).toContain(env);
  });
});
