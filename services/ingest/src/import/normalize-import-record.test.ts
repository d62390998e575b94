import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { auditEventSchema } from '@kaudit/audit-schema';
import { parseGkeResourceName } from './gke-audit-log.js';
import { normalizeImportLine, normalizeImportRecord, type ImportFormat } from './normalize-import-record.js';
import { PROVIDER_ANNOTATION } from '@kaudit/audit-schema';

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

/** A Cloud Logging AuditLog entry as GKE writes it (fields from the AuditLog reference), with overrides. */
function gkeEntry(payload: Record<string, unknown>, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    protoPayload: {
      '@type': 'type.googleapis.com/google.cloud.audit.AuditLog',
      authenticationInfo: { principalEmail: 'dana@example.com' },
      requestMetadata: { callerIp: '192.0.2.10', callerSuppliedUserAgent: 'kubectl/v1.31.0 (linux/amd64) kubernetes/9c1e2a7' },
      serviceName: 'k8s.io',
      status: {},
      ...payload,
    },
    insertId: 'ins-1',
    timestamp: '2026-11-21T08:00:00.250000Z',
    operation: { id: 'op-1', producer: 'k8s.io', first: true, last: true },
    resource: { type: 'k8s_cluster', labels: { cluster_name: 'gke-prod-eu' } },
    ...over,
  };
}

function oneEvent(entry: unknown, format: ImportFormat = 'gke'): Record<string, unknown> {
  const n = normalizeImportRecord(entry, format);
  if (!n.ok) throw new Error(n.reason);
  expect(n.events).toHaveLength(1);
  return n.events[0] as Record<string, unknown>;
}

describe('GKE Cloud Logging entries read right (issue 15 §3)', () => {
  const exec = { methodName: 'io.k8s.core.v1.pods.exec.create', resourceName: 'core/v1/namespaces/shop/pods/web-0/exec', authorizationInfo: [{ granted: true, permission: 'io.k8s.core.v1.pods.exec.create' }] };

  it('an exec or attach entry is the start of a long-running request, so exec rules see it', () => {
    expect(oneEvent(gkeEntry(exec))).toMatchObject({ stage: 'ResponseStarted', objectRef: { subresource: 'exec' } });
    const attach = { ...exec, methodName: 'io.k8s.core.v1.pods.attach.create', resourceName: 'core/v1/namespaces/shop/pods/web-0/attach' };
    expect(oneEvent(gkeEntry(attach))).toMatchObject({ stage: 'ResponseStarted' });
    const del = { methodName: 'io.k8s.core.v1.pods.delete', resourceName: 'core/v1/namespaces/shop/pods/web-0' };
    expect(oneEvent(gkeEntry(del))).toMatchObject({ stage: 'ResponseComplete' });
  });

  it('takes the authorization decision from authorizationInfo[].granted when the labels carry none', () => {
    expect(oneEvent(gkeEntry(exec))).toMatchObject({ annotations: { 'authorization.k8s.io/decision': 'allow' } });
    const denied = { methodName: 'io.k8s.core.v1.secrets.list', resourceName: 'core/v1/namespaces/kube-system/secrets', status: { code: 7, message: 'PERMISSION_DENIED' }, authorizationInfo: [{ granted: false, permission: 'io.k8s.core.v1.secrets.list' }] };
    expect(oneEvent(gkeEntry(denied))).toMatchObject({ annotations: { 'authorization.k8s.io/decision': 'forbid' } });
    // A label, when present, is the apiserver's own word and wins.
    const labelled = oneEvent(gkeEntry(denied, { labels: { 'authorization.k8s.io/decision': 'allow' } }));
    expect(labelled).toMatchObject({ annotations: { 'authorization.k8s.io/decision': 'allow' } });
    expect(oneEvent(gkeEntry({ methodName: 'io.k8s.core.v1.pods.list', resourceName: 'core/v1/pods' })).annotations).not.toHaveProperty(['authorization.k8s.io/decision']);
  });

  it('non-resource requests keep their leading slash and name no object', () => {
    for (const [resourceName, uri] of [['readyz', '/readyz'], ['livez/ping', '/livez/ping'], ['/healthz', '/healthz'], ['apis/apps/v1', '/apis/apps/v1'], ['openapi/v3/apis/apps/v1', '/openapi/v3/apis/apps/v1']] as const) {
      const event = oneEvent(gkeEntry({ methodName: 'io.k8s.get', resourceName }));
      expect(event.requestURI).toBe(uri);
      expect(event).not.toHaveProperty('objectRef');
      expect(auditEventSchema.safeParse(event).success).toBe(true);
    }
  });

  it('rejects entries of other Google services with a reason naming the service', () => {
    const billing = gkeEntry({ serviceName: 'cloudbilling.googleapis.com', methodName: 'google.cloud.billing.v1.CloudBilling.GetBillingAccount', resourceName: 'billingAccounts/0000-1111' });
    for (const format of ['gke', 'auto'] as const) {
      const n = normalizeImportRecord(billing, format);
      expect(n).toMatchObject({ ok: false, reason: expect.stringContaining('cloudbilling.googleapis.com') as unknown });
    }
    const compute = gkeEntry({ serviceName: 'compute.googleapis.com', methodName: 'v1.compute.instances.insert', resourceName: 'projects/p/zones/z/instances/i' });
    expect(normalizeImportRecord(compute, 'gke')).toMatchObject({ ok: false, reason: expect.stringContaining('not a Kubernetes audit entry') as unknown });
  });
});

describe('the import format names the provider (issue 15 §3)', () => {
  it('GKE, AKS and EKS entries carry the provider they were read as', () => {
    for (const format of ['gke', 'auto'] as const) {
      expect(oneEvent(gkeEntry({ methodName: 'io.k8s.core.v1.pods.list', resourceName: 'core/v1/pods' }), format)).toMatchObject({ annotations: { [PROVIDER_ANNOTATION]: 'gke' } });
      for (const e of eventsOf('gke-cloud-logging.jsonl', format)) expect(e.annotations).toMatchObject({ [PROVIDER_ANNOTATION]: 'gke' });
    }
    for (const format of ['aks', 'auto'] as const) for (const e of eventsOf('aks-diagnostic.jsonl', format)) expect(e.annotations).toMatchObject({ [PROVIDER_ANNOTATION]: 'aks' });
    for (const format of ['eks', 'auto'] as const) for (const e of eventsOf('eks-cloudwatch.jsonl', format)) expect(e.annotations).toMatchObject({ [PROVIDER_ANNOTATION]: 'eks' });
    // A plain apiserver log says nothing about where the cluster runs.
    const plain = normalizeImportLine(fixture('apiserver-audit.log')[0] ?? '', 'auto');
    expect(plain.ok && plain.events[0]).not.toHaveProperty(['annotations', PROVIDER_ANNOTATION]);
  });
});
