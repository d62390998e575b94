import { describe, expect, it } from 'vitest';
import { AuditRecordCodec, PROVIDER_ANNOTATION, SCHEMA_FINGERPRINT_HEADER, type AuditRecord } from '@kaudit/audit-schema';
import { isKauditError } from '@kaudit/errors';
import { RAW_HEADERS } from '@kaudit/kafka';
import { Enricher } from './enricher.js';
import { FIXTURE_SECRETS, FIXTURE_WINDOW, fixtureNames, loadFixture, rawRecord } from './fixtures/fixtures.js';
import { parseDirectory } from './identity/directory.js';
import { IdentityResolver } from './identity/identity-resolver.js';

const directory = parseDirectory(
  `
identities:
  - id: aws:123456789012:role/AWSReservedSSO_AdministratorAccess_0a1b2c3d4e5f6a7b/alice@example.com
    displayName: Alice Example
    team: platform
  - id: tke:100012347138
    displayName: Wang Wei
    email: wang.wei@example.com
    team: infra
  - pattern: "entra:3f0b6c1e-*"
    displayName: Dana Ops
    email: dana@contoso.com
    team: sre
    kind: human
namespaces:
  payments: payments-team
  "web*": web-team
`,
  'yaml',
  'test',
);

function makeEnricher(clusterProviders: Record<string, AuditRecord['provider']> = {}): { enricher: Enricher; codec: AuditRecordCodec } {
  const codec = new AuditRecordCodec();
  const identity = new IdentityResolver({ directory: () => directory });
  return { enricher: new Enricher({ identity, codec, options: { maxObjectBytes: 64 * 1024, clusterProviders }, window: FIXTURE_WINDOW }), codec };
}

async function enrichFixture(name: string, clusterProviders: Record<string, AuditRecord['provider']> = {}): Promise<AuditRecord> {
  const { enricher, codec } = makeEnricher(clusterProviders);
  const outcome = await enricher.enrich(rawRecord(loadFixture(name)));
  if (!outcome.ok) throw outcome.error;
  // What downstream sees is the decoded Avro, so assert on that, not on the in-memory record.
  return codec.decode(outcome.out.value as Buffer, String(outcome.out.headers?.[SCHEMA_FINGERPRINT_HEADER]));
}

describe('Enricher over realistic fixtures', () => {
  it('native v1 Secret create at RequestResponse: values, annotation and managedFields gone, keys kept', async () => {
    const r = await enrichFixture('native-v1-secret-create');
    expect(r).toMatchObject({ provider: 'native', level: 'RequestResponse', verb: 'create', operation: 'create', ownerTeam: 'payments-team' });
    expect(r.objectRef).toMatchObject({ resource: 'secrets', namespace: 'payments', name: 'db-credentials', apiGroup: null });
    expect(r.authorization.decision).toBe('allow');
    expect(r.annotations).toEqual({});
    expect(r.requestReceivedUs).toBe(Date.parse('2026-11-20T09:14:03Z') * 1000 + 481_922);
    expect(r.latencyMs).toBeCloseTo(15.388, 3);
    expect(r.ingestedUs).toBe(Date.parse('2026-11-20T20:00:00.123Z') * 1000);
    expect(r.actor).toMatchObject({ id: 'user:jane', kind: 'human', resolvedBy: 'unresolved' });
    const response = JSON.parse(r.responseObject ?? 'null') as { data: Record<string, string>; metadata: Record<string, unknown> };
    expect(response.data).toEqual({ password: '[redacted]', url: '[redacted]' });
    expect(response.metadata.managedFields).toBeUndefined();
    expect(response.metadata.annotations).toEqual({ 'kubectl.kubernetes.io/last-applied-configuration': '[redacted]' });
    expect(r.truncated).toBe(false);
  });

  it('native v1beta1 privileged pod at Request: security facts from the pod spec', async () => {
    const r = await enrichFixture('native-v1beta1-privileged-pod');
    expect(r.security).toMatchObject({
      privileged: true,
      hostNetwork: true,
      hostPID: true,
      hostIPC: false,
      hostPaths: ['/', '/sys'],
      addedCapabilities: ['SYS_TIME', 'NET_ADMIN'],
      images: ['busybox:1.36', 'quay.io/prometheus/node-exporter:v1.8.2'],
    });
    expect(r.actor).toMatchObject({ id: 'sa:monitoring:node-exporter-installer', kind: 'serviceaccount', resolvedBy: 'builtin' });
    expect(r.client).toEqual({ name: 'helm', version: 'v3.15.2' });
    expect(r.annotations).toEqual({ 'pod-security.kubernetes.io/enforce-policy': 'privileged:latest' });
  });

  it('EKS delete at Metadata: IAM session resolved from the directory file, key per actor', async () => {
    const { enricher } = makeEnricher();
    const outcome = await enricher.enrich(rawRecord(loadFixture('eks-delete-deployment')));
    if (!outcome.ok) throw outcome.error;
    const r = outcome.record;
    expect(r).toMatchObject({ provider: 'eks', operation: 'delete', requestObject: null, responseObject: null, ownerTeam: 'web-team' });
    expect(r.actor).toEqual({
      id: 'aws:123456789012:role/AWSReservedSSO_AdministratorAccess_0a1b2c3d4e5f6a7b/alice@example.com',
      kind: 'human',
      displayName: 'Alice Example',
      email: 'alice@example.com',
      team: 'platform',
      account: '123456789012',
      resolvedBy: 'directory-file',
    });
    expect(r.user.extra.sessionName).toBe('alice@example.com');
    expect(outcome.out.key).toBe(`prod-eu-1/${r.actor.id}`);
    // The one-line summary names the person the directory resolved (issue 17).
    expect(r.summary).toBe('Alice Example deleted Deployment web/nginx in prod-eu-1');
  });

  it('an imported event keeps the provider its log format declared, where the username looks native (issue 15 §3)', async () => {
    const { enricher, codec } = makeEnricher();
    const event = loadFixture('native-v1-secret-create') as Record<string, unknown>;
    const annotations = { ...(event.annotations as Record<string, string> | undefined), [PROVIDER_ANNOTATION]: 'gke' };
    const outcome = await enricher.enrich(rawRecord({ ...event, annotations }));
    if (!outcome.ok) throw outcome.error;
    const r = codec.decode(outcome.out.value as Buffer, String(outcome.out.headers?.[SCHEMA_FINGERPRINT_HEADER]));
    expect(r.provider).toBe('gke');
  });

  it('GKE ConfigMap update at Request: credential-like keys found before the values are dropped', async () => {
    const r = await enrichFixture('gke-configmap-update');
    expect(r.provider).toBe('gke');
    expect(r.security.credentialLikeKeys.sort()).toEqual(['STRIPE_API_KEY', 'application.yaml']);
    expect(JSON.parse(r.requestObject ?? 'null')).toMatchObject({ data: { LOG_LEVEL: '[redacted]', STRIPE_API_KEY: '[redacted]' } });
    expect(r.actor).toMatchObject({ id: 'user:bob@example.com', email: 'bob@example.com', resolvedBy: 'unresolved' });
  });

  it('AKS cluster-admin binding at RequestResponse: Entra object id resolved by pattern, RBAC facts', async () => {
    const r = await enrichFixture('aks-cluster-admin-binding');
    expect(r).toMatchObject({ provider: 'aks', operation: 'rbac-change', client: { name: 'terraform', version: '1.9.8' } });
    expect(r.security.clusterAdminBinding).toBe(true);
    expect(r.actor).toMatchObject({ id: 'entra:3f0b6c1e-8d2a-4f9b-a1c7-5e6d7f8a9b0c', kind: 'human', displayName: 'Dana Ops', team: 'sre', resolvedBy: 'directory-file' });
  });

  it('AKS exec at Metadata', async () => {
    const r = await enrichFixture('aks-exec-metadata');
    expect(r).toMatchObject({ provider: 'aks', operation: 'exec', stage: 'ResponseStarted', ownerTeam: 'payments-team' });
    expect(r.response.code).toBe(101);
  });

  it('TKE account UIN cordon (strategic-merge patch) resolves to the person from the seeds', async () => {
    const r = await enrichFixture('tke-cordon-patch');
    expect(r).toMatchObject({ provider: 'tke', operation: 'cordon', objectRef: { resource: 'nodes', name: '172.16.18.13' } });
    expect(r.actor).toMatchObject({ id: 'tke:100012347138', account: '100012347138', displayName: 'Wang Wei', resolvedBy: 'directory-file' });
  });

  it('GKE IAM service account cordon as an update of the Node object', async () => {
    const r = await enrichFixture('gke-cordon-update');
    expect(r).toMatchObject({ provider: 'gke', operation: 'cordon' });
    expect(r.actor).toMatchObject({ id: 'gcp-sa:node-maintainer@prod-project.iam.gserviceaccount.com', kind: 'serviceaccount', account: 'prod-project' });
  });

  it('TokenReview, TokenRequest and a SecretList keep no credential', async () => {
    const review = await enrichFixture('native-v1-tokenreview');
    expect(JSON.parse(review.requestObject ?? 'null')).toMatchObject({ spec: { token: '[redacted]' } });
    const request = await enrichFixture('native-v1-tokenrequest');
    expect(request).toMatchObject({ operation: 'token-request', actor: { kind: 'node', id: 'node:ip-10-0-1-23.eu-west-1.compute.internal' } });
    expect(JSON.parse(request.responseObject ?? 'null')).toMatchObject({ status: { token: '[redacted]' } });
    const list = await enrichFixture('native-v1-secret-list');
    expect(list).toMatchObject({ operation: 'secret-read', client: { name: 'curl', version: '8.5.0' } });
  });

  it.each([
    ['eks-scale-request', { provider: 'eks', level: 'Request', operation: 'scale', actor: { id: 'aws:123456789012:role/GitHubActionsDeployer/gha-run-9912', account: '123456789012' } }],
    ['eks-secret-get', { provider: 'eks', level: 'RequestResponse', operation: 'secret-read', actor: { id: 'aws:123456789012:role/EKSClusterCreator/erin@example.com', email: 'erin@example.com' } }],
    ['gke-pod-delete-metadata', { provider: 'gke', level: 'Metadata', operation: 'delete', client: { name: 'chrome', version: '124.0.0.0' } }],
    ['aks-image-change-request', { provider: 'aks', level: 'Request', operation: 'image-change', security: { images: ['contoso.azurecr.io/payments/api:2.14.1'] }, ownerTeam: 'payments-team' }],
    ['native-v1-drain-eviction-metadata', { provider: 'native', level: 'Metadata', operation: 'drain', objectRef: { subresource: 'eviction' }, ownerTeam: 'web-team' }],
    ['native-v1beta1-uncordon-requestresponse', { provider: 'native', level: 'RequestResponse', operation: 'uncordon', actor: { id: 'sa:kube-system:node-drainer', kind: 'serviceaccount' } }],
  ])('%s', async (name, expected) => {
    expect(await enrichFixture(name)).toMatchObject(expected);
  });

  it('the EKS Secret read keeps the key names, not the value', async () => {
    const r = await enrichFixture('eks-secret-get');
    expect(JSON.parse(r.responseObject ?? 'null')).toMatchObject({ data: { 'api-key': '[redacted]' } });
  });

  it('configured cluster provider wins over detection', async () => {
    const r = await enrichFixture('native-v1beta1-privileged-pod', { 'prod-eu-1': 'eks' });
    expect(r.provider).toBe('eks');
  });

  it('no planted secret value appears in any encoded record', async () => {
    // Non-vacuous: every planted value is really in some raw fixture.
    const raw = fixtureNames().map((n) => JSON.stringify(loadFixture(n))).join('\n');
    for (const secret of FIXTURE_SECRETS) expect(raw.includes(secret) || raw.includes(Buffer.from(secret).toString('base64')), secret).toBe(true);
    const { enricher } = makeEnricher();
    for (const name of fixtureNames()) {
      const outcome = await enricher.enrich(rawRecord(loadFixture(name)));
      if (!outcome.ok) throw outcome.error;
      const bytes = Buffer.concat([Buffer.from(String(outcome.out.key)), outcome.out.value as Buffer]);
      for (const secret of FIXTURE_SECRETS) expect(bytes.includes(secret), `${secret} in ${name}`).toBe(false);
    }
  });

  it('oversize objects become a small valid JSON stub and mark the record truncated', async () => {
    const codec = new AuditRecordCodec();
    const enricher = new Enricher({ identity: new IdentityResolver({ directory: () => directory }), codec, options: { maxObjectBytes: 1024, clusterProviders: {} }, window: FIXTURE_WINDOW });
    const event = loadFixture('native-v1beta1-privileged-pod');
    (event.requestObject as { metadata: Record<string, unknown> }).metadata.labels = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`label-${i}`, 'x'.repeat(20)]));
    const outcome = await enricher.enrich(rawRecord(event));
    if (!outcome.ok) throw outcome.error;
    expect(outcome.record.truncated).toBe(true);
    expect(JSON.parse(outcome.record.requestObject ?? 'null')).toMatchObject({ kind: 'Pod', kauditTruncated: { originalBytes: expect.any(Number) } });
    expect(outcome.record.security.privileged).toBe(true);
  });

  it('the ingest truncation header marks the record truncated', async () => {
    const { enricher } = makeEnricher();
    const outcome = await enricher.enrich(rawRecord(loadFixture('eks-delete-deployment'), { truncated: true }));
    expect(outcome.ok && outcome.record.truncated).toBe(true);
  });

  it.each([
    ['not JSON', Buffer.from('{"kind":'), 'parse-json'],
    ['not an audit event', Buffer.from('{"kind":"Event","verb":"get"}'), 'validate-event'],
    ['empty', Buffer.alloc(0), 'parse-json'],
  ])('rejects %s as INPUT_INVALID with the stage', async (_name, value, stage) => {
    const { enricher } = makeEnricher();
    const outcome = await enricher.enrich(rawRecord(null, { value }));
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(isKauditError(outcome.error, 'INPUT_INVALID')).toBe(true);
    expect((outcome.error as { stage: string }).stage).toBe(stage);
  });

  it('one Enricher over records of several clusters, and of the same again: each enriched record carries its own cluster and the fingerprint', async () => {
    const { enricher, codec } = makeEnricher();
    const clusters = ['prod-eu-1', 'prod-eu-1', 'prod-us-2', 'prod-eu-1', 'prod-us-2', 'prod-us-2'];
    for (const cluster of clusters) {
      const outcome = await enricher.enrich(rawRecord(loadFixture('eks-delete-deployment'), { cluster }));
      if (!outcome.ok) throw outcome.error;
      expect(outcome.record.cluster).toBe(cluster);
      expect(outcome.out.headers).toEqual({ [SCHEMA_FINGERPRINT_HEADER]: Buffer.from(codec.fingerprint), [RAW_HEADERS.cluster]: cluster });
    }
  });

  it('one Enricher over records of alternating clusters and actors: each is keyed by its own cluster and actor', async () => {
    const { enricher } = makeEnricher();
    const cases = [
      ['prod-eu-1', 'eks-delete-deployment'],
      ['prod-eu-1', 'eks-delete-deployment'],
      ['prod-us-2', 'eks-delete-deployment'],
      ['prod-us-2', 'aks-exec-metadata'],
      ['prod-eu-1', 'aks-exec-metadata'],
      ['prod-eu-1', 'eks-delete-deployment'],
    ] as const;
    const keys: string[] = [];
    for (const [cluster, fixture] of cases) {
      const outcome = await enricher.enrich(rawRecord(loadFixture(fixture), { cluster }));
      if (!outcome.ok) throw outcome.error;
      expect(outcome.out.key).toBe(`${cluster}/${outcome.record.actor.id}`);
      keys.push(String(outcome.out.key));
    }
    expect(new Set(keys).size).toBe(4);
  });
});
