import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { auditEventSchema } from '@kaudit/audit-schema';
import { parseGkeResourceName } from './gke-audit-log.js';
import { normalizeImportLine, type ImportFormat } from './normalize-import-record.js';

const fixture = (name: string) =>
  readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');

function eventsOf(name: string, format: ImportFormat): Record<string, unknown>[] {
  return fixture(name).flatMap((line) => {
    const n = normalizeImportLine(line, format);
    if (!n.ok) throw new Error(n.reason);
    return n.events as Record<string, unknown>[];
  });
}

describe('import normalisers', () => {
  it('maps GKE Cloud Logging AuditLog entries back to Kubernetes audit events', () => {
    for (const format of ['gke', 'auto'] as const) {
      const [del, exec, denied] = eventsOf('gke-cloud-logging.jsonl', format);
      expect(del).toMatchObject({
        auditID: '6f1c2b7a-4b8e-4a4f-9d57-0a1b2c3d4e5f',
        stage: 'ResponseComplete',
        verb: 'delete',
        level: 'Request',
        requestURI: '/apis/apps/v1/namespaces/shop/deployments/nginx',
        user: { username: 'alice@example.com' },
        sourceIPs: ['203.0.113.7'],
        userAgent: 'kubectl/v1.30.2 (darwin/arm64) kubernetes/3968350',
        objectRef: { resource: 'deployments', namespace: 'shop', name: 'nginx', apiGroup: 'apps', apiVersion: 'v1' },
        responseStatus: { code: 200 },
        requestReceivedTimestamp: '2026-11-20T09:14:03.512345Z',
        annotations: { 'authorization.k8s.io/decision': 'allow' },
      });
      expect(del?.requestObject).toEqual({ apiVersion: 'meta.k8s.io/__internal', kind: 'DeleteOptions', propagationPolicy: 'Background' });
      expect(exec).toMatchObject({ verb: 'create', requestURI: '/api/v1/namespaces/shop/pods/checkout-7d9f8b6c5-x2x4z/exec', objectRef: { resource: 'pods', subresource: 'exec', apiGroup: '' }, level: 'Metadata' });
      expect(denied).toMatchObject({ verb: 'list', responseStatus: { code: 403, message: 'PERMISSION_DENIED' }, objectRef: { resource: 'secrets', namespace: 'kube-system' } });
      expect(denied?.objectRef).not.toHaveProperty('name');
      for (const e of [del, exec, denied]) expect(auditEventSchema.safeParse(e).success).toBe(true);
    }
  });

  it('parses GKE resource names, including cluster-scoped and namespace objects', () => {
    expect(parseGkeResourceName('core/v1/nodes/worker-1')).toEqual({ objectRef: { resource: 'nodes', name: 'worker-1', apiGroup: '', apiVersion: 'v1' }, path: '/api/v1/nodes/worker-1' });
    expect(parseGkeResourceName('core/v1/namespaces/kube-system')?.objectRef).toEqual({ resource: 'namespaces', name: 'kube-system', apiGroup: '', apiVersion: 'v1' });
    expect(parseGkeResourceName('rbac.authorization.k8s.io/v1/clusterroles')?.path).toBe('/apis/rbac.authorization.k8s.io/v1/clusterroles');
  });

  it('unwraps EKS CloudWatch entries (message, @message, S3 export lines)', () => {
    for (const format of ['eks', 'auto'] as const) {
      const events = eventsOf('eks-cloudwatch.jsonl', format);
      expect(events.map((e) => e.auditID)).toEqual(['9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b01', '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b02', '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b03']);
      expect(events[1]?.objectRef).toMatchObject({ subresource: 'exec' });
    }
    const wrapped = normalizeImportLine(JSON.stringify({ logEvents: fixture('eks-cloudwatch.jsonl').slice(0, 1).map((l) => JSON.parse(l) as unknown) }), 'auto');
    expect(wrapped.ok && wrapped.events).toHaveLength(1);
  });

  it('unwraps AKS diagnostic records whose properties.log is a string or an object', () => {
    for (const format of ['aks', 'auto'] as const) {
      const [crb, del] = eventsOf('aks-diagnostic.jsonl', format);
      expect(crb).toMatchObject({ verb: 'create', objectRef: { resource: 'clusterrolebindings', name: 'evil-admin' }, requestObject: { roleRef: { name: 'cluster-admin' } } });
      expect(del).toMatchObject({ verb: 'delete', user: { username: 'aad:eve@example.com' } });
    }
  });

  it('reads apiserver log backend lines and names what is wrong with a bad one', () => {
    const lines = fixture('apiserver-audit.log');
    const results = lines.map((l) => normalizeImportLine(l, 'jsonl'));
    expect(results.map((r) => r.ok)).toEqual([true, true, false, true]);
    const bad = results[2];
    expect(bad?.ok === false && bad.reason).toMatch(/not JSON/);
    // The reason goes to the DLQ header and the summary: where it breaks, never what the line says.
    const leaky = normalizeImportLine('{"token": s3cr3t-value}', 'jsonl');
    expect(leaky.ok === false && leaky.reason).toMatch(/position 10/);
    expect(leaky.ok === false && leaky.reason).not.toMatch(/s3cr3t/);
    // The 4th line parses but lacks auditID: normalisation keeps it, validation (shared with the webhook) rejects it.
    expect(normalizeImportLine('{"kind":"Pod"}', 'jsonl')).toMatchObject({ ok: false });
    expect(normalizeImportLine('{"hello":"world"}', 'auto')).toMatchObject({ ok: false, reason: expect.stringContaining('unrecognised') as unknown });
    expect(normalizeImportLine(fixture('gke-cloud-logging.jsonl')[0] ?? '', 'eks')).toMatchObject({ ok: false });
  });
});
