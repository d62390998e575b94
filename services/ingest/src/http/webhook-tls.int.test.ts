import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEndpoints } from '@kaudit/testkit';
import { sampleAuditEvent } from '../fixtures/sample-audit-event.js';
import { send, startIngest, TOKENS, type RunningIngest } from '../test-support/ingest-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'kaudit-ingest-tls-'));
const file = (n: string) => join(dir, n);
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A throwaway CA and certificates signed by it (the apiserver's webhook kubeconfig carries the client one). */
function issue(name: string, cn: string, ca: string, ext?: string): void {
  openssl('req', ...newKey, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
  const extArgs = ext ? (writeFileSync(file(`${name}.ext`), ext), ['-extfile', `${name}.ext`]) : [];
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '1', ...extArgs);
}

let ingest: RunningIngest;
const tlsOf = (client?: string) => ({ ca: readFileSync(file('ca.crt')), ...(client ? { cert: readFileSync(file(`${client}.crt`)), key: readFileSync(file(`${client}.key`)) } : {}) });

beforeAll(async () => {
  for (const ca of ['ca', 'rogue-ca']) openssl('req', '-x509', ...newKey, '-keyout', `${ca}.key`, '-out', `${ca}.crt`, '-days', '1', '-subj', `/CN=${ca}`);
  issue('server', 'localhost', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  issue('client-us', 'apiserver-prod-us', 'ca');
  issue('client-stranger', 'apiserver-stranger', 'ca');
  issue('client-rogue', 'apiserver-prod-us', 'rogue-ca');
  ingest = await startIngest({ brokers: testEndpoints().kafkaBrokers, tls: { certFile: file('server.crt'), keyFile: file('server.key'), clientCaFile: file('ca.crt') } });
});
afterAll(async () => {
  await ingest?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the webhook over TLS with client certificates', () => {
  const body = JSON.stringify(sampleAuditEvent(7000));
  const headers = { 'content-type': 'application/json' };
  const us = () => `${ingest.url}/v1/clusters/prod-us/audit`;
  const eu = () => `${ingest.url}/v1/clusters/prod-eu/audit`;

  it('maps a verified client certificate to its cluster', async () => {
    const res = await send(us(), { headers, body, tls: tlsOf('client-us') });
    expect(res.status).toBe(200);
    expect(await ingest.countEvents(ingest.rawTopic)).toBe(1);
  });

  it('refuses the certificate of another cluster, an unmapped one and one from an untrusted CA, all with 401', async () => {
    expect((await send(eu(), { headers, body, tls: tlsOf('client-us') })).status).toBe(401);
    expect((await send(us(), { headers, body, tls: tlsOf('client-stranger') })).status).toBe(401);
    expect((await send(us(), { headers, body, tls: tlsOf('client-rogue') })).status).toBe(401);
  });

  it('still accepts a bearer token over TLS without a client certificate', async () => {
    expect((await send(eu(), { headers: { ...headers, authorization: `Bearer ${TOKENS.prodEu}` }, body, tls: tlsOf() })).status).toBe(200);
    expect((await send(eu(), { headers, body, tls: tlsOf() })).status).toBe(401);
  });
});
