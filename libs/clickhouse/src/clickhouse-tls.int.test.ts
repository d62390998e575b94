import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isKauditError } from '@kaudit/errors';
import { makeTestCertificates, startTlsProxy, testEndpoints, type TestCertificates, type TlsProxy } from '@kaudit/testkit';
import { createClickHouse } from './create-clickhouse.js';
import { toClickHouseError } from './to-clickhouse-error.js';

// The bundled engine (clickhouse-local) cannot serve HTTPS (SYSTEM START LISTEN supports only TCP and HTTP
// there), so a real node:tls proxy terminates TLS in front of its HTTP port: the client's handshake is real.
const certsDir = mkdtempSync(join(tmpdir(), 'kaudit-ch-tls-'));
let certs: TestCertificates;
let proxy: TlsProxy;
let mtlsProxy: TlsProxy;

beforeAll(async () => {
  certs = makeTestCertificates(certsDir);
  const target = new URL(testEndpoints().clickhouseUrl);
  const base = { targetHost: target.hostname, targetPort: Number(target.port), certFile: certs.serverCertFile, keyFile: certs.serverKeyFile };
  proxy = await startTlsProxy(base);
  mtlsProxy = await startTlsProxy({ ...base, clientCaFile: certs.caFile });
});
afterAll(async () => {
  await proxy?.close();
  await mtlsProxy?.close();
  rmSync(certsDir, { recursive: true, force: true });
});

async function selectOne(options: Parameters<typeof createClickHouse>[0]): Promise<unknown> {
  const ch = createClickHouse({ requestTimeoutMs: 10_000, ...options });
  try {
    const rs = await ch.query({ query: 'SELECT 1 AS one', format: 'JSONEachRow' });
    return await rs.json();
  } finally {
    await ch.close();
  }
}

describe('ClickHouse over https (CLICKHOUSE_CA_FILE, CLICKHOUSE_CERT_FILE/KEY_FILE)', () => {
  it('connects when the client trusts the CA that signed the server certificate', async () => {
    expect(await selectOne({ url: `https://127.0.0.1:${proxy.port}`, tls: { caFile: certs.caFile } })).toEqual([{ one: 1 }]);
  });

  it('fails fast with CLICKHOUSE_TLS_FAILED, not retryable, when the server is signed by another CA', async () => {
    const err = await selectOne({ url: `https://127.0.0.1:${proxy.port}`, tls: { caFile: certs.otherCaFile } }).catch((e: unknown) => e);
    const classified = toClickHouseError(err, 'select');
    expect(isKauditError(classified, 'CLICKHOUSE_TLS_FAILED')).toBe(true);
    expect(classified.retryable).toBe(false);
    expect(classified.message).toMatch(/CLICKHOUSE_CA_FILE/);
  });

  it('presents the client certificate to a server that requires one (mTLS), and is refused without it', async () => {
    const url = `https://127.0.0.1:${mtlsProxy.port}`;
    expect(await selectOne({ url, tls: { caFile: certs.caFile, certFile: certs.clientCertFile, keyFile: certs.clientKeyFile } })).toEqual([{ one: 1 }]);
    const err = await selectOne({ url, tls: { caFile: certs.caFile } }).catch((e: unknown) => e);
    expect(toClickHouseError(err, 'select').code, String(err)).toBe('CLICKHOUSE_TLS_FAILED');
  });

  it('names the file when a configured CA file cannot be read', () => {
    let err: unknown;
    try {
      createClickHouse({ url: `https://127.0.0.1:${proxy.port}`, tls: { caFile: '/nonexistent/ca.pem' } });
    } catch (e) {
      err = e;
    }
    expect(isKauditError(err, 'CONFIG_INVALID')).toBe(true);
    expect((err as Error).message).toContain('/nonexistent/ca.pem');
  });
});
