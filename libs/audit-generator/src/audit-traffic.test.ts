import { describe, expect, it } from 'vitest';
import { auditEventSchema } from '@kaudit/audit-schema';
import { auditTraffic, createRng, scenarioEvents, type Scenario } from './audit-traffic.js';

function take<T>(gen: Generator<T>, n: number): T[] {
  const out: T[] = [];
  for (const item of gen) {
    out.push(item);
    if (out.length >= n) break;
  }
  return out;
}

describe('auditTraffic', () => {
  it('is repeatable for a seed and every event is a valid audit.k8s.io/v1 Event', () => {
    const opts = { seed: 42, clusters: ['prod-eu-1', 'prod-us-1'], startMs: Date.UTC(2026, 10, 1), scenarios: ['delete-nginx', 'cordon-node'] as Scenario[], scenarioEvery: 50 };
    const a = take(auditTraffic(opts), 500);
    const b = take(auditTraffic(opts), 500);
    expect(a).toEqual(b);
    for (const { event } of a) {
      const parsed = auditEventSchema.safeParse(event);
      expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    }
    expect(new Set(a.map((e) => e.cluster))).toEqual(new Set(['prod-eu-1', 'prod-us-1']));
    expect(a.some((e) => (e.event.objectRef as { name?: string }).name === 'nginx' && e.event.verb === 'delete')).toBe(true);
  });

  it('events average about 1-2 KB of JSON, like real Metadata/RequestResponse traffic', () => {
    const events = take(auditTraffic({ seed: 7, clusters: ['c'], startMs: 0 }), 2000);
    const avg = events.reduce((sum, e) => sum + JSON.stringify(e.event).length, 0) / events.length;
    expect(avg).toBeGreaterThan(700);
    expect(avg).toBeLessThan(3000);
  });

  it('nginx-changes: Deng Wei reads the Deployment, changes its image and scales it to zero, with the bodies a diff needs', () => {
    const events = scenarioEvents(createRng(1), 'nginx-changes', 1_000);
    for (const e of events) expect(auditEventSchema.safeParse(e).success).toBe(true);
    expect(events.map((e) => [e.verb, (e.user as { username: string }).username, e.level])).toEqual([
      ['get', '100012347138', 'RequestResponse'],
      ['patch', '100012347138', 'RequestResponse'],
      ['patch', '100012347138', 'RequestResponse'],
    ]);
    expect(events.map((e) => (e.objectRef as { namespace: string; name: string }).name)).toEqual(['nginx', 'nginx', 'nginx']);
    expect(events[1]?.requestObject).toEqual({ spec: { template: { spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }] } } } });
    expect(events[2]?.requestObject).toEqual({ spec: { replicas: 0 } });
    const times = events.map((e) => Date.parse(String(e.requestReceivedTimestamp)));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it('the 403 storm is a burst of forbidden LISTs by kube-state-metrics', () => {
    const storm = scenarioEvents(createRng(1), 'ksm-403-storm', 0);
    expect(storm.length).toBeGreaterThanOrEqual(50);
    for (const e of storm) {
      expect(e.verb).toBe('list');
      expect((e.responseStatus as { code: number }).code).toBe(403);
      expect((e.user as { username: string }).username).toBe('system:serviceaccount:monitoring:kube-state-metrics');
    }
  });
});
