import { describe, expect, it } from 'vitest';
import { sampleAuditRecord, type AlertRecord, type AuditRecord } from '@kaudit/audit-schema';
import { loadRuleSources } from '../rules/load-rules.js';
import { changedGroups, engineChangesSchema, engineSnapshotSchema, RuleEngine } from './rule-engine.js';

const T0 = 1_763_800_000_000_000;
const S = 1_000_000;

function engineFor(rulesYaml: string): RuleEngine {
  const { rules, problems } = loadRuleSources([{ file: 't.yaml', text: rulesYaml }]);
  expect(problems).toEqual([]);
  return new RuleEngine({ rules, nowUs: () => T0 });
}

function rec(atS: number, patch: Partial<AuditRecord> = {}, n = atS): AuditRecord {
  return sampleAuditRecord({ auditID: `a-${n}`, requestReceivedUs: T0 + atS * S, ...patch });
}

const forbidden = { response: { code: 403, status: 'Failure', reason: 'Forbidden', message: null } };

function run(engine: RuleEngine, records: AuditRecord[]): AlertRecord[] {
  const out: AlertRecord[] = [];
  for (const r of records) out.push(...engine.process(r));
  return out;
}

describe('RuleEngine', () => {
  it('match rules alert immediately with a rendered summary and a deterministic id', () => {
    const yaml = `rules:
  - id: delete-deploy
    name: Deployment deleted
    severity: high
    tags: [T1485]
    output: "{actor.displayName} deleted {objectRef.resource}/{objectRef.name}"
    match: { all: [{ field: verb, equals: delete }, { field: objectRef.resource, equals: deployments }] }
`;
    const r = rec(0, { verb: 'delete', objectRef: { ...sampleAuditRecord().objectRef, resource: 'deployments', name: 'nginx' } });
    const first = run(engineFor(yaml), [r, rec(1)]);
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ ruleId: 'delete-deploy', severity: 'high', tags: ['T1485'], summary: 'Alice Example deleted deployments/nginx', count: 1 });
    const again = run(engineFor(yaml), [r]);
    expect(again[0]?.alertId).toBe(first[0]?.alertId);
  });

  it('threshold counts per group over a sliding window', () => {
    const engine = engineFor(`rules:
  - id: storm
    name: 403 storm
    severity: medium
    output: "{actor.displayName} got {count} 403s"
    match: { field: response.code, equals: 403 }
    threshold: { count: 5, window: 10s, groupBy: [actor.id] }
`);
    // 4 in the window, then a gap that slides the first ones out: no alert.
    expect(run(engine, [0, 1, 2, 3, 20, 21].map((t) => rec(t, forbidden)))).toHaveLength(0);
    // Another user's 403s do not count toward alice's.
    const bob = { ...sampleAuditRecord().actor, id: 'user:bob' };
    expect(run(engine, [22, 23].map((t) => rec(t, { ...forbidden, actor: bob })))).toHaveLength(0);
    const fired = run(engine, [24, 25, 26].map((t) => rec(t, forbidden)));
    expect(fired).toHaveLength(1);
    expect(fired[0]?.summary).toBe('Alice Example got 5 403s');
    expect(fired[0]?.firstSeenUs).toBe(T0 + 20 * S);
  });

  it('distinct-count thresholds count distinct values only', () => {
    const engine = engineFor(`rules:
  - id: enum
    name: secrets enumeration
    severity: high
    output: x
    match: { field: operation, equals: secret-read }
    threshold: { count: 3, window: 1m, distinct: objectRef.name }
`);
    const read = (t: number, name: string) => rec(t, { operation: 'secret-read', objectRef: { ...sampleAuditRecord().objectRef, resource: 'secrets', name } });
    expect(run(engine, [read(0, 'a'), read(1, 'a'), read(2, 'b'), read(3, 'b')])).toHaveLength(0);
    expect(run(engine, [read(4, 'c')])).toMatchObject([{ count: 3 }]);
  });

  it('sequence: A then B by the same key within the window', () => {
    const yaml = `rules:
  - id: rbac-then-workload
    name: RBAC change then workload change
    severity: high
    output: x
    sequence:
      window: 5m
      steps:
        - { name: rbac, match: { field: operation, equals: rbac-change } }
        - { name: workload, match: { field: objectRef.resource, in: [deployments, daemonsets] } }
`;
    const rbac = (t: number) => rec(t, { operation: 'rbac-change' });
    const deploy = (t: number, actorId = 'user:alice@example.com') =>
      rec(t, { operation: 'create', objectRef: { ...sampleAuditRecord().objectRef, resource: 'deployments' }, actor: { ...sampleAuditRecord().actor, id: actorId } });
    expect(run(engineFor(yaml), [deploy(0), rbac(1)])).toHaveLength(0); // wrong order
    expect(run(engineFor(yaml), [rbac(0), deploy(400)])).toHaveLength(0); // outside 5 min
    expect(run(engineFor(yaml), [rbac(0), deploy(10, 'user:bob')])).toHaveLength(0); // another actor
    expect(run(engineFor(yaml), [rbac(0), deploy(10)])).toHaveLength(1);
  });

  it('dedup: the first occurrence alerts at once; 1,000 in a minute are exactly two alerts, the follow-up with the same id saying 999 more', () => {
    const engine = engineFor(`rules:
  - id: exec
    name: exec
    severity: high
    output: "{actor.displayName} exec'd into {objectRef.name}"
    match: { field: operation, equals: exec }
    dedup: { window: 1m, by: [actor.id] }
`);
    const events = Array.from({ length: 1000 }, (_, i) => rec(i * 0.05, { operation: 'exec' }, i));
    const first = engine.process(events[0] as AuditRecord);
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ count: 1, summary: "Alice Example exec'd into web-0", firstSeenUs: T0 });
    expect(first[0]?.followUp).toBeUndefined();
    expect(run(engine, events.slice(1))).toHaveLength(0);
    expect(engine.flush()).toHaveLength(0); // watermark is still inside the window
    const closed = engine.flush({ idleNowUs: T0 + 61 * S });
    expect(closed).toHaveLength(1);
    expect(closed[0]).toMatchObject({ alertId: first[0]?.alertId, followUp: true, count: 1000, summary: "Alice Example exec'd into web-0 — and 999 more times in 1 minute" });
    expect(closed[0]?.auditIDs).toHaveLength(10);
  });

  it('dedup: a window without repeats sends no follow-up; the next window is a new alert', () => {
    const next = engineFor(`rules:
  - id: exec
    name: exec
    severity: high
    output: x
    match: { field: operation, equals: exec }
    dedup: { window: 1m }
`);
    const a = run(next, [rec(0, { operation: 'exec' }), rec(1, { operation: 'exec' })]);
    expect(a.map((x) => x.count)).toEqual([1]);
    // An event past the window closes it (one repeat: a follow-up) and opens the next window at once.
    const b = run(next, [rec(90, { operation: 'exec' })]);
    expect(b.map((x) => [x.alertId === a[0]?.alertId, x.count, x.followUp ?? false])).toEqual([
      [true, 2, true],
      [false, 1, false],
    ]);
    expect(next.flush({ idleNowUs: T0 + 3600 * S })).toEqual([]);
  });

  it('a window restored from a checkpoint of before leading-edge alerts (no first sent) notifies once at its close', () => {
    const yaml = `rules:
  - id: exec
    name: exec
    severity: high
    output: x
    match: { field: operation, equals: exec }
    dedup: { window: 1m }
`;
    const a = engineFor(yaml);
    run(a, [rec(0, { operation: 'exec' }), rec(1, { operation: 'exec' })]);
    const old = JSON.parse(JSON.stringify(a.snapshot())) as { dedup: Record<string, Record<string, { firstCount?: number }>> };
    for (const w of Object.values(old.dedup.exec ?? {})) delete w.firstCount;
    const b = engineFor(yaml);
    b.restore(engineSnapshotSchema.parse(old));
    expect(b.flush({ idleNowUs: T0 + 3600 * S })).toMatchObject([{ count: 2, summary: 'x — 2 times in 1 minute' }]);
  });

  it('a snapshot restores mid-window state exactly', () => {
    const yaml = `rules:
  - id: storm
    name: storm
    severity: medium
    output: x
    match: { field: response.code, equals: 403 }
    threshold: { count: 4, window: 1m }
    dedup: { window: 1m }
`;
    const a = engineFor(yaml);
    run(a, [0, 1, 2].map((t) => rec(t, forbidden)));
    const b = engineFor(yaml);
    b.restore(engineSnapshotSchema.parse(JSON.parse(JSON.stringify(a.snapshot()))));
    run(b, [3, 4, 5, 6, 7].map((t) => rec(t, forbidden)));
    expect(b.flush({ idleNowUs: T0 + 3600 * S })).toMatchObject([{ count: 8 }]);
  });
});

describe('RuleEngine group bound', () => {
  const yaml = `rules:
  - id: exec
    name: exec
    severity: high
    output: "{actor.displayName} exec'd into {objectRef.name}"
    match: { field: operation, equals: exec }
    dedup: { window: 10m, by: [actor.id] }
  - id: storm
    name: storm
    severity: medium
    output: x
    match: { field: response.code, equals: 403 }
    threshold: { count: 10, window: 10m, groupBy: [actor.id] }
`;
  const actor = (i: number) => ({ ...sampleAuditRecord().actor, id: `user:${i}`, displayName: `User ${i}` });

  it('past the bound, the oldest open dedup window is emitted early with its count, and the eviction is reported', () => {
    const { rules } = loadRuleSources([{ file: 't.yaml', text: yaml }]);
    const evicted: { ruleId: string; kind: string }[] = [];
    const engine = new RuleEngine({ rules, nowUs: () => T0, maxGroupsPerRule: 2, onEvict: (e) => evicted.push(e) });
    // user 0 execs 3 times, then users 1 and 2 open their windows: user 0's window is the oldest past the bound.
    const out = run(engine, [
      rec(0, { operation: 'exec', actor: actor(0) }, 0),
      rec(1, { operation: 'exec', actor: actor(0) }, 1),
      rec(2, { operation: 'exec', actor: actor(0) }, 2),
      rec(3, { operation: 'exec', actor: actor(1) }, 3),
      rec(4, { operation: 'exec', actor: actor(2) }, 4),
    ]);
    // Each person's first exec alerted at once; user 0's window, pushed out, sends its follow-up early.
    expect(out.map((a) => [a.actor.id, a.count, a.followUp ?? false])).toEqual([
      ['user:0', 1, false],
      ['user:1', 1, false],
      ['user:0', 3, true],
      ['user:2', 1, false],
    ]);
    expect(out[2]).toMatchObject({ alertId: out[0]?.alertId, summary: "User 0 exec'd into web-0 — and 2 more times in 10 minutes" });
    expect(evicted).toEqual([{ ruleId: 'exec', kind: 'dedup' }]);
    // Nothing else was owed: the two windows still open had no repeats.
    expect(engine.flush({ idleNowUs: T0 + 3600 * S })).toEqual([]);
  });

  it('threshold groups dropped past the bound are reported too (their partial counts cannot page)', () => {
    const { rules } = loadRuleSources([{ file: 't.yaml', text: yaml }]);
    const evicted: { ruleId: string; kind: string }[] = [];
    const engine = new RuleEngine({ rules, nowUs: () => T0, maxGroupsPerRule: 2, onEvict: (e) => evicted.push(e) });
    run(engine, [0, 1, 2].map((i) => rec(i, { ...forbidden, actor: actor(i) }, i)));
    expect(evicted).toEqual([{ ruleId: 'storm', kind: 'threshold' }]);
  });
});

describe('RuleEngine incremental state', () => {
  const yaml = `rules:
  - id: exec
    name: exec
    severity: high
    output: x
    match: { field: operation, equals: exec }
    dedup: { window: 10m, by: [actor.id] }
  - id: storm
    name: storm
    severity: medium
    output: x
    match: { field: response.code, equals: 403 }
    threshold: { count: 1000, window: 10m, groupBy: [actor.id] }
  - id: rbac-then-workload
    name: seq
    severity: high
    output: x
    sequence:
      window: 5m
      steps:
        - { name: rbac, match: { field: operation, equals: rbac-change } }
        - { name: workload, match: { field: objectRef.resource, in: [deployments] } }
`;
  const actor = (i: number) => ({ ...sampleAuditRecord().actor, id: `user:${i}` });
  const events = (from: number, to: number, at: number) =>
    Array.from({ length: to - from }, (_, k) => {
      const i = from + k;
      const kind = i % 3;
      const patch: Partial<AuditRecord> = kind === 0 ? { operation: 'exec' } : kind === 1 ? forbidden : { operation: 'rbac-change' };
      return rec(at + k * 0.001, { ...patch, actor: actor(i) }, at * 1e6 + i);
    });

  it('changes name only the groups touched since the last take; base pieces plus changes rebuild the state exactly', () => {
    const { rules } = loadRuleSources([{ file: 't.yaml', text: yaml }]);
    const a = new RuleEngine({ rules, nowUs: () => T0 });
    run(a, events(0, 3000, 0));
    a.flush();
    const base = a.snapshotChunks(500);
    expect(base).toHaveLength(6);
    a.takeChanges();
    // A later batch touches 6 groups (2 per rule); one of them, user 0's dedup window, then closes.
    run(a, events(0, 6, 60));
    const closed = a.flush({ idleNowUs: T0 + 600 * S + 1 });
    expect(closed.map((c) => c.actor.id)).toEqual(['user:0']);
    const changes = a.takeChanges();
    expect(changedGroups(changes)).toBe(6);
    expect(changes.dedup.exec?.['user:0']).toBeNull();
    expect(changedGroups(a.takeChanges())).toBe(0);

    const b = new RuleEngine({ rules, nowUs: () => T0 });
    for (const piece of base) b.applyChanges(engineChangesSchema.parse(JSON.parse(JSON.stringify(piece))));
    b.applyChanges(engineChangesSchema.parse(JSON.parse(JSON.stringify(changes))));
    expect(b.snapshot()).toEqual(a.snapshot());
    expect(b.stateSize()).toBe(3000 - closed.length);
  });
});
