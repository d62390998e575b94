import { describe, expect, it } from 'vitest';
import { REDACTED, redactPayload, type RedactionResult } from './redact.js';
import { sensitiveKindsOf } from './redact-request.js';

/** The payload as redacted for a request to `resource`/`subresource`. */
function redact(payload: unknown, resource: string | null, subresource: string | null): RedactionResult {
  return redactPayload(payload, sensitiveKindsOf({ resource, subresource }));
}

describe('redactPayload', () => {
  it('a strategic-merge patch of a Secret (no kind in the body) loses data and stringData values', () => {
    const patch = { data: { password: 'bmV3LXBhc3N3b3JkLTEyMw==' }, stringData: { token: 'plain-token-value-42' }, metadata: { labels: { app: 'x' } } };
    const { value, removed } = redact(patch, 'secrets', null);
    expect(value).toEqual({ data: { password: REDACTED }, stringData: { token: REDACTED }, metadata: { labels: { app: 'x' } } });
    expect(removed).toContain('new-password-123');
    expect(patch.data.password).toBe('bmV3LXBhc3N3b3JkLTEyMw=='); // input untouched
  });

  it('a JSON patch of a Secret loses every op value except label edits', () => {
    const ops = [
      { op: 'replace', path: '/data/password', value: 'c2VjcmV0LXZhbHVlLTk5' },
      { op: 'add', path: '/metadata/labels/team', value: 'web' },
    ];
    expect(redact(ops, 'secrets', null).value).toEqual([
      { op: 'replace', path: '/data/password', value: REDACTED },
      { op: 'add', path: '/metadata/labels/team', value: 'web' },
    ]);
  });

  it('a JSON patch of a Deployment is kept', () => {
    const ops = [{ op: 'replace', path: '/spec/replicas', value: 3 }];
    expect(redact(ops, 'deployments', null).value).toEqual(ops);
  });

  it('Table responses (kubectl get) with full objects lose the values', () => {
    const table = { kind: 'Table', apiVersion: 'meta.k8s.io/v1', rows: [{ cells: ['db'], object: { kind: 'Secret', metadata: { name: 'db' }, data: { p: 'dGFibGUtc2VjcmV0LXZhbA==' } } }] };
    expect(redact(table, 'secrets', null).value).toMatchObject({ rows: [{ object: { data: { p: REDACTED } } }] });
  });

  it('a generic List with a Secret item (kubectl apply -f list.yaml)', () => {
    const list = { kind: 'List', items: [{ kind: 'Secret', data: { a: 'bGlzdC1zZWNyZXQtdmFs' } }, { kind: 'Service', spec: { ports: [{ port: 80 }] } }] };
    expect(redact(list, null, null).value).toEqual({ kind: 'List', items: [{ kind: 'Secret', data: { a: REDACTED } }, { kind: 'Service', spec: { ports: [{ port: 80 }] } }] });
  });

  it('ConfigMapList items lose their values', () => {
    const list = { kind: 'ConfigMapList', items: [{ metadata: { name: 'a' }, data: { DB_PASSWORD: 'cm-password-value' }, binaryData: { blob: 'AAEC' } }] };
    expect(redact(list, 'configmaps', null).value).toMatchObject({ items: [{ data: { DB_PASSWORD: REDACTED }, binaryData: { blob: REDACTED } }] });
  });

  it('credential annotations go on any kind; ordinary annotations stay', () => {
    const deployment = {
      kind: 'Deployment',
      metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"spec":{}}', 'example.com/api-token': 'abc123456789', 'deployment.kubernetes.io/revision': '4' } },
    };
    expect(redact(deployment, 'deployments', null).value).toEqual({
      kind: 'Deployment',
      metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': REDACTED, 'example.com/api-token': REDACTED, 'deployment.kubernetes.io/revision': '4' } },
    });
  });

  it('TokenRequest status.token via the subresource, even without kind', () => {
    expect(redact({ status: { token: 'eyJhbGciOi.token.sig' } }, 'serviceaccounts', 'token').value).toEqual({ status: { token: REDACTED } });
  });
});
