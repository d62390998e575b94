import { emptySecurityFacts, type AuditRecord } from './audit-record.js';

/**
 * A complete, valid record with neutral values; tests override what they care about
 * (`sampleAuditRecord({ verb: 'delete', objectRef: { ...} })`). Shared so every package's tests
 * build records the same way instead of each keeping its own copy.
 */
export function sampleAuditRecord(overrides: Partial<AuditRecord> = {}): AuditRecord {
  const base: AuditRecord = {
    cluster: 'prod-eu-1',
    provider: 'native',
    auditID: '6f1d2c84-0f3c-4d8e-9a51-2b8a4d7b1c01',
    stage: 'ResponseComplete',
    level: 'Metadata',
    requestReceivedUs: 1_763_800_000_000_000,
    stageUs: 1_763_800_000_012_000,
    ingestedUs: 1_763_800_000_500_000,
    latencyMs: 12,
    verb: 'get',
    requestURI: '/api/v1/namespaces/default/pods/web-0',
    objectRef: { apiGroup: '', apiVersion: 'v1', resource: 'pods', subresource: null, namespace: 'default', name: 'web-0', uid: null },
    response: { code: 200, status: null, reason: null, message: null },
    authorization: { decision: 'allow', reason: '' },
    annotations: {},
    user: { username: 'alice@example.com', uid: null, groups: ['system:authenticated'], extra: {} },
    impersonatedUser: null,
    sourceIPs: ['10.0.0.7'],
    userAgent: 'kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46',
    client: { name: 'kubectl', version: 'v1.31.2' },
    actor: { id: 'user:alice@example.com', kind: 'human', displayName: 'Alice Example', email: 'alice@example.com', team: 'platform', account: null, resolvedBy: 'directory-file' },
    ownerTeam: 'web',
    operation: 'read',
    security: emptySecurityFacts(),
    requestObject: null,
    responseObject: null,
    truncated: false,
    summary: null,
  };
  return { ...base, ...overrides };
}
