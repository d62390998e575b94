import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { sampleAuditRecord, type AuditRecord } from '@kaudit/audit-schema';
import { isKauditError } from '@kaudit/errors';
import { RuleEngine } from '../engine/rule-engine.js';
import { loadRuleSources } from '../rules/load-rules.js';
import { WindowCheckpoint, type CheckpointKv } from './window-checkpoint.js';

const T0 = 1_763_800_000_000_000;
const KEY = 'eval:kaudit.audit.enriched.v1:0';
const { rules } = loadRuleSources([
  {
    file: 't.yaml',
    text: `rules:
  - id: exec
    name: exec
    severity: high
    output: x
    match: { field: operation, equals: exec }
    dedup: { window: 1h, by: [actor.id] }
`,
  },
]);

/**
 * The latest value per key, as the compacted topic keeps it. `failAfter` makes the n-th record
 * written from now on fail (and every later one), as a crash in the middle of a write would.
 */
class CompactedKv implements CheckpointKv {
  readonly values = new Map<string, Buffer>();
  failAfter = Infinity;
  records = 0;

  get(key: string): Buffer | undefined {
    const v = this.values.get(key);
    return v && v.length > 0 ? v : undefined;
  }

  keys(prefix: string): string[] {
    return [...this.values].filter(([k, v]) => v.length > 0 && k.startsWith(prefix)).map(([k]) => k);
  }

  async putMany(entries: readonly { key: string; value: Buffer }[]): Promise<void> {
    // One produce request is one record batch: it lands whole or not at all.
    if (this.records + entries.length > this.failAfter) throw new Error('crashed');
    this.records += entries.length;
    for (const e of entries) this.values.set(e.key, e.value);
  }
}

const engine = () => new RuleEngine({ rules, nowUs: () => T0 });
const exec = (person: number, n: number): AuditRecord =>
  sampleAuditRecord({ auditID: `a-${person}-${n}`, requestReceivedUs: T0 + n * 1000, operation: 'exec', actor: { ...sampleAuditRecord().actor, id: `user:${person}` } });

/** Feeds a batch and saves like the evaluator does; returns the engine's snapshot after it. */
async function batch(e: RuleEngine, cp: WindowCheckpoint, records: AuditRecord[], nextOffset: bigint) {
  for (const r of records) e.process(r);
  await cp.save(e, e.takeChanges(), nextOffset);
  return e.snapshot();
}

function restored(kv: CheckpointKv): { snapshot: ReturnType<RuleEngine['snapshot']>; nextOffset: bigint | undefined } {
  const e = engine();
  const nextOffset = new WindowCheckpoint({ kv, key: KEY, nowMs: () => 0 }).restoreInto(e);
  return { snapshot: e.snapshot(), nextOffset };
}

describe('WindowCheckpoint', () => {
  it('rebuilds base pieces plus deltas exactly, and starts a new base after maxDeltas', async () => {
    const kv = new CompactedKv();
    let clock = 1;
    const cp = new WindowCheckpoint({ kv, key: KEY, nowMs: () => clock++, chunkGroups: 100, minCompactBytes: 1e9, maxDeltas: 7 });
    const e = engine();
    let snap = await batch(e, cp, Array.from({ length: 250 }, (_, i) => exec(i, 0)), 250n);
    expect(kv.keys(`${KEY}/b/`)).toHaveLength(3);
    // Small batches are one delta record each.
    for (let b = 0; b < 5; b++) {
      const before = kv.records;
      snap = await batch(e, cp, [exec(b, 1), exec(300 + b, 0)], 251n + BigInt(b));
      expect(kv.records - before).toBe(1);
      expect(restored(kv)).toEqual({ snapshot: snap, nextOffset: 251n + BigInt(b) });
    }
    snap = await batch(e, cp, Array.from({ length: 80 }, (_, i) => exec(1000 + i, 0)), 400n);
    expect(restored(kv)).toEqual({ snapshot: snap, nextOffset: 400n });
    expect(kv.keys(`${KEY}/d/`)).toHaveLength(6);
    // The 7th delta starts a new base (5 pieces of 100 for 410 windows); the superseded keys are cleared.
    snap = await batch(e, cp, Array.from({ length: 80 }, (_, i) => exec(2000 + i, 0)), 500n);
    expect(restored(kv)).toEqual({ snapshot: snap, nextOffset: 500n });
    expect(kv.keys(`${KEY}/d/`)).toHaveLength(0);
    expect(kv.keys(`${KEY}/b/`)).toHaveLength(Math.ceil(e.stateSize() / 100));
  });

  it('a crash at any record of a base rewrite leaves a state that restores exactly to a save that completed', async () => {
    for (let crashAt = 0; crashAt < 12; crashAt++) {
      const kv = new CompactedKv();
      let clock = 1;
      const cp = new WindowCheckpoint({ kv, key: KEY, nowMs: () => clock++, chunkGroups: 100, minCompactBytes: 0 });
      const e = engine();
      await batch(e, cp, Array.from({ length: 250 }, (_, i) => exec(i, 0)), 250n);
      const before = await batch(e, cp, [exec(1, 1)], 251n);
      // This batch opens 200 windows: more than a piece holds, so it is saved as a whole new base
      // (5 pieces, head, clearing) — and the process dies after `crashAt` of those records.
      kv.failAfter = kv.records + crashAt;
      let after: ReturnType<RuleEngine['snapshot']> | undefined;
      try {
        after = await batch(e, cp, Array.from({ length: 200 }, (_, i) => exec(5000 + i, 0)), 451n);
      } catch {
        after = undefined;
      }
      const got = restored(kv);
      if (got.nextOffset === 451n) expect(got.snapshot).toEqual(after ?? e.snapshot());
      else expect(got).toEqual({ snapshot: before, nextOffset: 251n });
    }
  });

  it('reads the one-record checkpoint written before incremental checkpoints, and replaces it with a base', async () => {
    const kv = new CompactedKv();
    const old = engine();
    for (let i = 0; i < 5; i++) old.process(exec(i, 0));
    await kv.putMany([{ key: KEY, value: gzipSync(JSON.stringify({ nextOffset: '5', engine: old.snapshot() })) }]);
    const cp = new WindowCheckpoint({ kv, key: KEY, nowMs: () => 1 });
    const e = engine();
    expect(cp.restoreInto(e)).toBe(5n);
    expect(e.snapshot()).toEqual(old.snapshot());
    const snap = await batch(e, cp, [exec(9, 0)], 6n);
    expect(kv.keys(`${KEY}/b/`)).toHaveLength(1);
    expect(restored(kv)).toEqual({ snapshot: snap, nextOffset: 6n });
  });

  it('a head whose base piece is gone is refused with INPUT_INVALID, never restored as a partial state', async () => {
    const kv = new CompactedKv();
    const cp = new WindowCheckpoint({ kv, key: KEY, nowMs: () => 1, chunkGroups: 2 });
    await batch(engine(), cp, [exec(1, 0), exec(2, 0), exec(3, 0)], 3n);
    const [piece] = kv.keys(`${KEY}/b/`);
    kv.values.set(piece as string, Buffer.alloc(0));
    let error: unknown;
    try {
      restored(kv);
    } catch (err) {
      error = err;
    }
    expect(isKauditError(error, 'INPUT_INVALID')).toBe(true);
  });
});
