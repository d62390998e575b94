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

describe('redactPayload: the request decides, the body only adds', () => {
  it('a Secret body under another kind name still loses its values; unknown fields go too, identity stays', () => {
    const body = { kind: 'Foo', apiVersion: 'v1', type: 'Opaque', metadata: { name: 'db', labels: { app: 'x' } }, data: { p: 'c2VjcmV0LXZhbHVlLTk5' }, dta: { typo: 'plain-value-123' } };
    expect(redact(body, 'secrets', null).value).toEqual({ kind: 'Foo', apiVersion: 'v1', type: 'Opaque', metadata: { name: 'db', labels: { app: 'x' } }, data: { p: REDACTED }, dta: { typo: REDACTED } });
  });

  it('a body naming Secret under a Deployment request is redacted as a Secret', () => {
    expect(redact({ kind: 'Secret', data: { p: 'c2VjcmV0LXZhbHVlLTk5' } }, 'deployments', null).value).toEqual({ kind: 'Secret', data: { p: REDACTED } });
  });

  it('a JSON patch op is redacted as what it becomes at its path', () => {
    const ops = [
      { op: 'add', path: '/data', value: { a: 'c2VjcmV0LXZhbHVlLTk5' } },
      { op: 'add', path: '/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration', value: '{"kind":"Secret"}' },
      { op: 'add', path: '/metadata/annotations/team', value: 'web' },
      { op: 'move', from: '/data/a', path: '/data/b' },
    ];
    expect(redact(ops, 'secrets', null).value).toEqual([
      { op: 'add', path: '/data', value: { a: REDACTED } },
      { op: 'add', path: '/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration', value: REDACTED },
      { op: 'add', path: '/metadata/annotations/team', value: 'web' },
      { op: 'move', from: '/data/a', path: '/data/b' },
    ]);
  });

  it('an annotation holding a JSON copy of a Secret is redacted inside, on any kind', () => {
    const copy = JSON.stringify({ kind: 'Secret', metadata: { name: 'db' }, stringData: { password: 'embedded-pass-1' } });
    const { value, removed } = redact({ kind: 'Deployment', metadata: { annotations: { 'example.com/original': copy } } }, 'deployments', null);
    expect(JSON.parse((value as { metadata: { annotations: Record<string, string> } }).metadata.annotations['example.com/original'] ?? '')).toEqual({ kind: 'Secret', metadata: { name: 'db' }, stringData: { password: REDACTED } });
    expect(removed).toContain('embedded-pass-1');
  });

  it('an apply body logged as YAML text is redacted and stays YAML; text that does not parse goes whole', () => {
    const yaml = 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: yaml-pass-123\n';
    expect(redact(yaml, 'secrets', null).value).toBe('apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: "[redacted]"\n');
    expect(redact('password=unparsed-yaml: [', 'secrets', null).value).toBe(REDACTED);
    expect(redact('apiVersion: apps/v1\nkind: Deployment\n', 'deployments', null).value).toBe('apiVersion: apps/v1\nkind: Deployment\n');
  });

  it('a Deployment is passed through (managedFields aside)', () => {
    const deployment = { kind: 'Deployment', metadata: { name: 'api', annotations: { 'deployment.kubernetes.io/revision': '4' } }, spec: { replicas: 3, template: { spec: { containers: [{ name: 'api', image: 'nginx:1.27', env: [{ name: 'CONFIG', value: '{"level":"info"}' }] }] } } } };
    expect(redact(structuredClone(deployment), 'deployments', null).value).toEqual(deployment);
  });
});
