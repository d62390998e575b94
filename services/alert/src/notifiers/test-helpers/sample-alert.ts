import type { AlertRecord } from '@kaudit/audit-schema';

/** A complete alert for notifier tests; override what a test cares about. */
export function sampleAlert(overrides: Partial<AlertRecord> = {}): AlertRecord {
  return {
    alertId: '9f2c1e0b7a6d5c4b3a29180716253443',
    ruleId: 'k8s-workload-deleted',
    ruleName: 'Workload deleted by a human',
    severity: 'high',
    tags: ['T1485'],
    cluster: 'prod-eu-1',
    summary: 'Alice Example deleted deployments/nginx in web',
    count: 1,
    firstSeenUs: 1_763_800_000_000_000,
    lastSeenUs: 1_763_800_000_000_000,
    actor: { id: 'user:alice@example.com', displayName: 'Alice Example', team: 'platform' },
    objectRef: { resource: 'deployments', namespace: 'web', name: 'nginx' },
    ownerTeam: 'web',
    auditIDs: ['6f1d2c84-0f3c-4d8e-9a51-2b8a4d7b1c01'],
    createdUs: 1_763_800_001_000_000,
    ...overrides,
  };
}
