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

  it('answers the same 401 for every credential/cluster mismatch, and keeps the reason for the server log', () => {
    const failures = [
      [dir.authenticate('prod-eu', {}), 'missing-credentials'],
      [dir.authenticate('prod-eu', { bearerToken: 'nope' }), 'invalid-credentials'],
      [dir.authenticate('prod-eu', { bearerToken: 'us-token' }), 'credentials-of-another-cluster'],
      [dir.authenticate('prod-eu', { certCommonName: 'apiserver-prod-us' }), 'credentials-of-another-cluster'],
      [dir.authenticate('staging', { bearerToken: 'eu-token' }), 'unknown-cluster'],
      [dir.authenticate('staging', {}), 'unknown-cluster'],
    ] as const;
    const publicParts = new Set<string>();
    for (const [outcome, reason] of failures) {
      expect(outcome).toMatchObject({ ok: false, status: 401, code: 'UNAUTHENTICATED', reason });
      if (!outcome.ok) publicParts.add(JSON.stringify([outcome.status, outcome.code, outcome.message]));
    }
    // Nothing a caller sees tells an unknown cluster from a known one, or a wrong token from another cluster's.
    expect(publicParts.size).toBe(1);
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
