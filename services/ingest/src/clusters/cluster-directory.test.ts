import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isKauditError } from '@kaudit/errors';
import { ClusterDirectory } from './cluster-directory.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const yaml = `clusters:
  prod-eu:
    tokens:
      - sha256: ${sha('eu-token')}
      - env: PROD_EU_TOKEN
  prod-us:
    tokens:
      - sha256: ${sha('us-token')}
    clientCertCommonNames: [apiserver-prod-us]
`;
const dir = ClusterDirectory.parse(yaml, 'clusters.yaml', { PROD_EU_TOKEN: 'eu-token-2' });

describe('ClusterDirectory', () => {
  it('accepts a cluster token (hashed or from env) and a mapped client certificate', () => {
    expect(dir.authenticate('prod-eu', { bearerToken: 'eu-token' })).toMatchObject({ ok: true, cluster: 'prod-eu' });
    expect(dir.authenticate('prod-eu', { bearerToken: 'eu-token-2' })).toMatchObject({ ok: true, via: 'token' });
    expect(dir.authenticate('prod-us', { certCommonName: 'apiserver-prod-us' })).toMatchObject({ ok: true, via: 'client-certificate' });
  });

  it('answers 401 / 403 / 404 for the auth matrix', () => {
    expect(dir.authenticate('prod-eu', {})).toMatchObject({ ok: false, status: 401 });
    expect(dir.authenticate('prod-eu', { bearerToken: 'nope' })).toMatchObject({ ok: false, status: 401 });
    expect(dir.authenticate('prod-eu', { bearerToken: 'us-token' })).toMatchObject({ ok: false, status: 403 });
    expect(dir.authenticate('prod-eu', { certCommonName: 'apiserver-prod-us' })).toMatchObject({ ok: false, status: 403 });
    expect(dir.authenticate('staging', { bearerToken: 'eu-token' })).toMatchObject({ ok: false, status: 404 });
  });

  it('reports every problem with its line', () => {
    const bad = `clusters:
  ok:
    tokens:
      - sha256: abc
  Bad_Name:
    tokens: []
  env-missing:
    tokens:
      - env: NOT_SET_ANYWHERE
`;
    let error: unknown;
    try {
      ClusterDirectory.parse(bad, 'clusters.yaml', {});
    } catch (err) {
      error = err;
    }
    expect(isKauditError(error, 'CONFIG_INVALID')).toBe(true);
    const message = (error as Error).message;
    expect(message).toContain('line 4: clusters.ok.tokens.0.sha256');
    expect(message).toContain('Bad_Name');
    expect(() => ClusterDirectory.parse('clusters:\n  a: [\n', 'c.yaml', {})).toThrow(/not valid YAML/);
    expect(() => ClusterDirectory.parse(`clusters:\n  e:\n    tokens:\n      - env: NOT_SET\n`, 'c.yaml', {})).toThrow(/line 4: .*NOT_SET is not set/);
  });

  it('parses the example in deploy/apiserver', () => {
    const file = new URL('../../../../deploy/apiserver/clusters.example.yaml', import.meta.url);
    const example = ClusterDirectory.parse(readFileSync(file, 'utf8'), 'clusters.example.yaml', { KAUDIT_TOKEN_PROD_US: 'x' });
    expect(example.names).toEqual(['prod-eu', 'prod-us', 'staging']);
    expect(example.authenticate('staging', { certCommonName: 'apiserver-staging' }).ok).toBe(true);
  });
});
