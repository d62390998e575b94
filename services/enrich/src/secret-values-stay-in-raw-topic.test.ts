/**
 * Guarantee (DESIGN.md): Secret and ConfigMap values never leave the raw topic — the resource the
 * request names decides what is redacted, never the body. Each case is a shape that leaked on the
 * code before issue 11 was fixed; the assertion is on the Avro bytes enrich produces.
 */
import { describe, expect, it } from 'vitest';
import { SCHEMA_FINGERPRINT_HEADER, type AuditRecord } from '@kaudit/audit-schema';
import { auditEvent, findLeaks, testEnricher, type EventShape } from './fixtures/leak-check.js';
import { rawRecord } from './fixtures/fixtures.js';

const MARKER = '"Mk7\\pl4ntedValue9-é';
const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

async function enrichShape(shape: EventShape): Promise<{ record: AuditRecord; leaks: string[] }> {
  const event = auditEvent(shape);
  // Non-vacuous: the marker really is in what ingest wrote to the raw topic.
  expect(findLeaks(Buffer.from(JSON.stringify(event)), [MARKER])).not.toEqual([]);
  const { enricher, codec } = testEnricher();
  const outcome = await enricher.enrich(rawRecord(event));
  if (!outcome.ok) throw outcome.error;
  const bytes = Buffer.concat([Buffer.from(String(outcome.out.key)), outcome.out.value as Buffer, ...Object.values(outcome.out.headers ?? {}).map((h) => Buffer.from(String(h)))]);
  const record = codec.decode(outcome.out.value as Buffer, String(outcome.out.headers?.[SCHEMA_FINGERPRINT_HEADER]));
  return { record, leaks: findLeaks(bytes, [MARKER]) };
}

const secretRef = (extra: Record<string, string> = {}) => ({ resource: 'secrets', namespace: 'payments', name: 'db', apiVersion: 'v1', ...extra });

describe('no Secret value leaves the raw topic: shapes the request, not the body, decides', () => {
  it.each([
    ['"kind":"secret" (wrong case)', 'secret'],
    ['"kind":"Foo"', 'Foo'],
  ])('a merge-patch to secrets whose body says %s', async (_label, kind) => {
    const { record, leaks } = await enrichShape({
      verb: 'patch',
      requestURI: '/api/v1/namespaces/payments/secrets/db',
      objectRef: secretRef(),
      requestObject: { kind, data: { password: b64(MARKER) }, stringData: { token: MARKER } },
    });
    expect(leaks).toEqual([]);
    expect(JSON.parse(record.requestObject ?? 'null')).toMatchObject({ data: { password: '[redacted]' }, stringData: { token: '[redacted]' } });
  });

  it('a List response of secrets whose items carry no kind', async () => {
    const { record, leaks } = await enrichShape({
      verb: 'list',
      requestURI: '/api/v1/namespaces/payments/secrets',
      objectRef: { resource: 'secrets', namespace: 'payments', apiVersion: 'v1' },
      responseObject: { kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: '77' }, items: [{ metadata: { name: 'db' }, type: 'Opaque', data: { password: b64(MARKER) } }] },
    });
    expect(leaks).toEqual([]);
    expect(JSON.parse(record.responseObject ?? 'null')).toMatchObject({ items: [{ metadata: { name: 'db' }, data: { password: '[redacted]' } }] });
  });

  it('a JSON patch that adds last-applied-configuration holding a Secret to a Deployment', async () => {
    const secret = JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, stringData: { password: MARKER } });
    const { leaks } = await enrichShape({
      verb: 'patch',
      requestURI: '/apis/apps/v1/namespaces/payments/deployments/api',
      objectRef: { resource: 'deployments', namespace: 'payments', name: 'api', apiGroup: 'apps', apiVersion: 'v1' },
      requestObject: [{ op: 'add', path: '/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration', value: secret }],
    });
    expect(leaks).toEqual([]);
  });

  it('a kindless body on the secrets/status subresource', async () => {
    const { leaks } = await enrichShape({
      verb: 'update',
      requestURI: '/api/v1/namespaces/payments/secrets/db/status',
      objectRef: secretRef({ subresource: 'status' }),
      requestObject: { metadata: { name: 'db' }, data: { password: b64(MARKER) } },
    });
    expect(leaks).toEqual([]);
  });

  it('a mutating webhook patch annotation carrying a JSON patch to the Secret /data', async () => {
    const patch = { configuration: 'inject-creds', webhook: 'inject.example.com', patch: [{ op: 'add', path: '/data/extra', value: b64(MARKER) }], patchType: 'JSONPatch' };
    const { record, leaks } = await enrichShape({
      verb: 'create',
      requestURI: '/api/v1/namespaces/payments/secrets',
      objectRef: secretRef(),
      requestObject: { kind: 'Secret', apiVersion: 'v1', metadata: { name: 'db' }, data: { user: b64('app') } },
      annotations: { 'patch.webhook.admission.k8s.io/round_0_index_0': JSON.stringify(patch), 'mutation.webhook.admission.k8s.io/round_0_index_0': '{"configuration":"inject-creds","webhook":"inject.example.com","mutated":true}' },
    });
    expect(leaks).toEqual([]);
    // The annotation stays useful: which webhook patched what.
    expect(JSON.parse(record.annotations['patch.webhook.admission.k8s.io/round_0_index_0'] ?? 'null')).toEqual({ ...patch, patch: [{ op: 'add', path: '/data/extra', value: '[redacted]' }] });
    expect(record.annotations['mutation.webhook.admission.k8s.io/round_0_index_0']).toContain('"mutated":true');
  });

  it('an event without objectRef: the requestURI names the secret', async () => {
    const { leaks } = await enrichShape({
      verb: 'update',
      requestURI: '/api/v1/namespaces/payments/secrets/db?fieldManager=kubectl',
      requestObject: { kind: 'Foo', data: { password: b64(MARKER) } },
    });
    expect(leaks).toEqual([]);
  });

  it('a server-side apply body (application/apply-patch+yaml) logged as a string', async () => {
    const { leaks } = await enrichShape({
      verb: 'patch',
      requestURI: '/api/v1/namespaces/payments/secrets/db?fieldManager=kubectl&force=true',
      objectRef: secretRef(),
      requestObject: `apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: ${JSON.stringify(MARKER)}\n`,
    });
    expect(leaks).toEqual([]);
  });

  it('the final check covers every string field: a removed value echoed in an annotation or the response message', async () => {
    const { leaks } = await enrichShape({
      verb: 'create',
      requestURI: '/api/v1/namespaces/payments/secrets',
      objectRef: secretRef(),
      requestObject: { kind: 'Secret', apiVersion: 'v1', metadata: { name: 'db' }, stringData: { password: MARKER } },
      responseStatus: { metadata: {}, code: 422, message: `Secret "db" is invalid: stringData.password: Invalid value: "${MARKER}"` },
      annotations: { 'policy.example.com/debug': `rejected value ${MARKER}` },
    });
    expect(leaks).toEqual([]);
  });
});

describe('the final leak check', () => {
  it('catches a value under a credential key that the redactor kept (an unknown field in a Secret\'s metadata)', async () => {
    const { record, leaks } = await enrichShape({
      verb: 'patch',
      requestURI: '/api/v1/namespaces/payments/secrets/db',
      objectRef: secretRef(),
      requestObject: { metadata: { data: { password: MARKER } } },
    });
    expect(leaks).toEqual([]);
    expect(record.requestObject).toBe('{"kauditRedacted":"[redacted]"}');
    expect(record.truncated).toBe(true);
  });

  it('leaves the record\'s identity alone when a dropped value equals it (a ConfigMap value that is its namespace)', async () => {
    const { enricher } = testEnricher();
    const event = auditEvent({
      verb: 'create',
      requestURI: '/api/v1/namespaces/payments-prod/configmaps',
      objectRef: { resource: 'configmaps', namespace: 'payments-prod', name: 'settings', apiVersion: 'v1' },
      requestObject: { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'settings', namespace: 'payments-prod' }, data: { NAMESPACE: 'payments-prod', DB_URL: 'postgres://db:5432/app' } },
    });
    const outcome = await enricher.enrich(rawRecord(event));
    if (!outcome.ok) throw outcome.error;
    expect(outcome.record.objectRef.namespace).toBe('payments-prod');
    expect(JSON.parse(outcome.record.requestObject ?? 'null')).toEqual({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'settings', namespace: 'payments-prod' }, data: { NAMESPACE: '[redacted]', DB_URL: '[redacted]' } });
  });
});
