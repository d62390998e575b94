import { describe, expect, it } from 'vitest';
import { auditEventSchema } from './k8s-audit-event.js';

/**
 * An audit.k8s.io/v1beta1 Event as Kubernetes 1.8–1.9 wrote it (types.go of that release): one
 * `timestamp`, no requestReceivedTimestamp/stageTimestamp (those came in 1.10).
 */
const v1beta1Event = {
  kind: 'Event',
  apiVersion: 'audit.k8s.io/v1beta1',
  metadata: { creationTimestamp: '2018-01-15T10:11:12Z' },
  level: 'Metadata',
  timestamp: '2018-01-15T10:11:12Z',
  auditID: '5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a',
  stage: 'ResponseComplete',
  requestURI: '/api/v1/namespaces/default/pods/web-0',
  verb: 'delete',
  user: { username: 'admin', groups: ['system:masters', 'system:authenticated'] },
  sourceIPs: ['10.0.0.5'],
  objectRef: { resource: 'pods', namespace: 'default', name: 'web-0', apiVersion: 'v1' },
  responseStatus: { metadata: {}, code: 200 },
};

describe('auditEventSchema', () => {
  it('accepts a Kubernetes 1.8–1.9 v1beta1 event that carries only `timestamp`, using it for both times (issue 15 §3)', () => {
    const parsed = auditEventSchema.safeParse(v1beta1Event);
    expect(parsed.success).toBe(true);
    expect(parsed.data).toMatchObject({ requestReceivedTimestamp: '2018-01-15T10:11:12Z', stageTimestamp: '2018-01-15T10:11:12Z', timestamp: '2018-01-15T10:11:12Z' });
  });

  it('keeps the stage times an event has, and still refuses an event with no time at all', () => {
    const later = { ...v1beta1Event, requestReceivedTimestamp: '2018-01-15T10:11:11.5Z', stageTimestamp: '2018-01-15T10:11:12.25Z' };
    expect(auditEventSchema.parse(later)).toMatchObject({ requestReceivedTimestamp: '2018-01-15T10:11:11.5Z', stageTimestamp: '2018-01-15T10:11:12.25Z' });
    const { timestamp: _t, ...timeless } = v1beta1Event;
    expect(auditEventSchema.safeParse(timeless).success).toBe(false);
    // A v1 event must carry its own times: `timestamp` is a v1beta1 field.
    expect(auditEventSchema.safeParse({ ...v1beta1Event, apiVersion: 'audit.k8s.io/v1' }).success).toBe(false);
  });
});
