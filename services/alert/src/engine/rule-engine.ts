import { z } from 'zod';
import { alertRecordSchema, type AlertRecord, type AuditRecord } from '@kaudit/audit-schema';
import type { CompiledRule } from '../rules/compiled-rule.js';
import type { RoleFacts } from '../rules/role-fact.js';
import { fieldAccessor, valueText, type FieldAccessor } from '../rules/field-path.js';
import { alertId } from './alert-id.js';
import { countGroupChanges, GroupState, mergeGroupChanges } from './group-state.js';
import { compileTemplate, foldedSuffix, followUpSuffix } from './render-template.js';

/** An alert being folded inside a dedup window (also what a snapshot stores). */
interface OpenAlert {
  alertId: string;
  windowEndUs: number;
  count: number;
  firstSeenUs: number;
  lastSeenUs: number;
  summary: string;
  cluster: string;
  actor: AlertRecord['actor'];
  objectRef: AlertRecord['objectRef'];
  ownerTeam: string | null;
  auditIDs: string[];
  /**
   * Events counted in the first notification, sent when the window opened (leading edge); absent
   * on windows restored from a checkpoint written before that (they notify once, at the close).
   */
  firstCount?: number;
}

interface ThresholdGroup {
  /** Event times in the window (count mode); at most `count` long because it resets on firing. */
  times: number[];
  /** distinct value → last time seen (distinct mode). */
  values: Record<string, number>;
}

interface SequenceProgress {
  /** Index of the next step to match. */
  step: number;
  startUs: number;
}

const thresholdGroupSchema = z.object({ times: z.array(z.number()), values: z.record(z.string(), z.number()) });
const sequenceProgressSchema = z.object({ step: z.number().int(), startUs: z.number() });
const openAlertSchema = z.object({
  alertId: z.string(),
  windowEndUs: z.number(),
  count: z.number().int(),
  firstSeenUs: z.number(),
  lastSeenUs: z.number(),
  summary: z.string(),
  cluster: z.string(),
  actor: alertRecordSchema.shape.actor,
  objectRef: alertRecordSchema.shape.objectRef,
  ownerTeam: z.string().nullable(),
  auditIDs: z.array(z.string()),
  firstCount: z.number().int().optional(),
});

/** JSON engine state, checkpointed after every batch so a restart resumes mid-window; parsed, never trusted. */
export const engineSnapshotSchema = z.object({
  version: z.literal(1),
  watermarkUs: z.number(),
  threshold: z.record(z.string(), z.record(z.string(), thresholdGroupSchema)),
  sequence: z.record(z.string(), z.record(z.string(), sequenceProgressSchema)),
  dedup: z.record(z.string(), z.record(z.string(), openAlertSchema)),
});

export type EngineSnapshot = z.infer<typeof engineSnapshotSchema>;

/**
 * What changed in the engine since the last `takeChanges()` (a group set to `null` is gone), or one
 * piece of the whole state (`snapshotChunks`): the unit an incremental checkpoint writes. Applying
 * a base's pieces and then each change set in order rebuilds the state exactly.
 */
export const engineChangesSchema = z.object({
  watermarkUs: z.number(),
  threshold: z.record(z.string(), z.record(z.string(), thresholdGroupSchema.nullable())),
  sequence: z.record(z.string(), z.record(z.string(), sequenceProgressSchema.nullable())),
  dedup: z.record(z.string(), z.record(z.string(), openAlertSchema.nullable())),
});

export type EngineChanges = z.infer<typeof engineChangesSchema>;

/** How many groups a change set (or snapshot piece) carries. */
export function changedGroups(changes: EngineChanges): number {
  return countGroupChanges(changes.threshold) + countGroupChanges(changes.sequence) + countGroupChanges(changes.dedup);
}

/** A later change set over an earlier one: what both together changed. */
export function mergeChanges(earlier: EngineChanges, later: EngineChanges): EngineChanges {
  return {
    watermarkUs: Math.max(earlier.watermarkUs, later.watermarkUs),
    threshold: mergeGroupChanges(earlier.threshold, later.threshold),
    sequence: mergeGroupChanges(earlier.sequence, later.sequence),
    dedup: mergeGroupChanges(earlier.dedup, later.dedup),
  };
}

export interface RuleEngineOptions {
  rules: readonly CompiledRule[];
  /** Wall clock in µs, for `createdUs` only (never for window logic, which runs on event time). */
  nowUs: () => number;
  /**
   * Bound on per-rule group state (bounded memory). Past it the oldest group goes: an open dedup
   * window is emitted early (never lost), threshold/sequence progress is dropped; both reported.
   */
  maxGroupsPerRule?: number;
  /** Told of every group pushed out by the bound, so it is counted and logged, never silent. */
  onEvict?: (eviction: GroupEviction) => void;
  /** Audit IDs kept per alert for drill-down. */
  maxAuditIds?: number;
}

export interface GroupEviction {
  ruleId: string;
  kind: 'dedup' | 'threshold' | 'sequence';
}

/** What a rule produced for one event, before dedup folding. */
interface Hit {
  rule: CompiledRule;
  record: AuditRecord;
  groupKey: string;
  count: number;
  firstSeenUs: number;
  auditIDs: string[];
}

const SEP = '\u001f';

/**
 * Evaluates compiled rules over canonical records of ONE partition (records are keyed by
 * cluster/actor, so per-actor windows are partition-local). Windows use event time
 * (requestReceivedUs); dedup windows close when the partition's event-time watermark passes their
 * end, or on `flush({ idleNowUs })` when the partition has gone quiet. Pure apart from `nowUs`.
 */
export class RuleEngine {
  readonly #rules: readonly CompiledRule[];
  readonly #nowUs: () => number;
  readonly #maxGroups: number;
  readonly #maxAuditIds: number;
  readonly #onEvict: (eviction: GroupEviction) => void;
  #watermarkUs = 0;
  readonly #threshold = new GroupState<ThresholdGroup>();
  readonly #sequence = new GroupState<SequenceProgress>();
  readonly #dedup = new GroupState<OpenAlert>();
  readonly #known: ReadonlySet<string>;
  readonly #usesRoleFacts: boolean;
  /** Rules a record with this verb and resource could match, in pack order (see CompiledRule.prefilter). */
  readonly #candidates = new Map<string, readonly CompiledRule[]>();
  /** Group-key fields compiled once: keys are built for every event a stateful rule matches. */
  readonly #accessors = new Map<string, FieldAccessor>();
  /** Rules' outputs compiled once (compileTemplate), when the rule first raises an alert. */
  readonly #templates = new Map<CompiledRule, (record: unknown) => string>();

  constructor(options: RuleEngineOptions) {
    this.#rules = options.rules;
    this.#nowUs = options.nowUs;
    this.#maxGroups = options.maxGroupsPerRule ?? 100_000;
    this.#maxAuditIds = options.maxAuditIds ?? 10;
    this.#onEvict = options.onEvict ?? (() => undefined);
    this.#known = new Set(options.rules.map((r) => r.id));
    this.#usesRoleFacts = options.rules.some((r) => r.usesRoleFacts === true);
  }

  get watermarkUs(): number {
    return this.#watermarkUs;
  }

  /**
   * Evaluates one record; returns the alerts that are complete now (rules without dedup, or closed
   * windows). `facts` answers roleRefPowerful; `roleFactRulesOnly` evaluates again a binding whose
   * role became known powerful after it was first seen — only the rules that ask, which are the
   * only ones whose answer can have changed (they did not match the first time).
   */
  process(record: AuditRecord, options: { facts?: RoleFacts; roleFactRulesOnly?: boolean } = {}): AlertRecord[] {
    const ts = record.requestReceivedUs;
    if (ts > this.#watermarkUs) this.#watermarkUs = ts;
    const out: AlertRecord[] = [];
    for (const rule of this.#candidatesFor(record.verb, record.objectRef.resource)) {
      if (options.roleFactRulesOnly === true && rule.usesRoleFacts !== true) continue;
      const hit = this.#evaluate(rule, record, options.facts);
      if (hit) out.push(...this.#emit(hit));
    }
    return out;
  }

  #text(record: AuditRecord, path: string): string {
    let get = this.#accessors.get(path);
    if (!get) {
      get = fieldAccessor(path);
      this.#accessors.set(path, get);
    }
    return valueText(get(record));
  }

  #render(rule: CompiledRule, record: unknown): string {
    let render = this.#templates.get(rule);
    if (!render) {
      render = compileTemplate(rule.output);
      this.#templates.set(rule, render);
    }
    return render(record);
  }

  #keyOf(record: AuditRecord, fields: readonly string[]): string {
    return fields.map((f) => this.#text(record, f)).join(SEP);
  }

  #candidatesFor(verb: string, resource: string | null): readonly CompiledRule[] {
    const key = `${verb}${SEP}${resource ?? ''}`;
    let rules = this.#candidates.get(key);
    if (!rules) {
      rules = this.#rules.filter((r) => (!r.prefilter?.verb || r.prefilter.verb.has(verb)) && (!r.prefilter?.resource || (resource !== null && r.prefilter.resource.has(resource))));
      // Verbs are few but resources include every CRD: bound the cache rather than trust the input.
      if (this.#candidates.size >= 4096) this.#candidates.clear();
      this.#candidates.set(key, rules);
    }
    return rules;
  }

  /**
   * Closes dedup windows whose end the watermark passed (or `idleNowUs`, when the caller knows the
   * partition is idle) and prunes expired threshold/sequence state. Returns the closed alerts.
   */
  flush(options: { idleNowUs?: number } = {}): AlertRecord[] {
    const closeBefore = Math.max(this.#watermarkUs, options.idleNowUs ?? 0);
    const out: AlertRecord[] = [];
    for (const rule of this.#rules) {
      for (const [key, alert] of this.#dedup.entries(rule.id)) {
        if (alert.windowEndUs <= closeBefore) {
          this.#dedup.delete(rule.id, key);
          out.push(...this.#close(rule, alert));
        }
      }
      if (rule.threshold) {
        const horizon = this.#watermarkUs - rule.threshold.windowMs * 1000;
        for (const [key, g] of this.#threshold.entries(rule.id)) {
          const newest = Math.max(g.times[g.times.length - 1] ?? 0, ...Object.values(g.values));
          if (newest <= horizon) this.#threshold.delete(rule.id, key);
        }
      }
      if (rule.sequence) {
        const horizon = this.#watermarkUs - rule.sequence.windowMs * 1000;
        for (const [key, p] of this.#sequence.entries(rule.id)) if (p.startUs < horizon) this.#sequence.delete(rule.id, key);
      }
    }
    return out;
  }

  /** How many open groups/windows the engine holds (a gauge for memory). */
  stateSize(): number {
    return this.#threshold.size() + this.#sequence.size() + this.#dedup.size();
  }

  snapshot(): EngineSnapshot {
    return {
      version: 1,
      watermarkUs: this.#watermarkUs,
      threshold: this.#threshold.toObject(),
      sequence: this.#sequence.toObject(),
      dedup: this.#dedup.toObject(),
    };
  }

  /** The whole state as change sets of at most `maxGroups` groups each (at least one, for the watermark). */
  snapshotChunks(maxGroups: number): EngineChanges[] {
    const empty = { watermarkUs: this.#watermarkUs, threshold: {}, sequence: {}, dedup: {} };
    const pieces: EngineChanges[] = [
      ...this.#threshold.chunks(maxGroups).map((threshold) => ({ ...empty, threshold })),
      ...this.#sequence.chunks(maxGroups).map((sequence) => ({ ...empty, sequence })),
      ...this.#dedup.chunks(maxGroups).map((dedup) => ({ ...empty, dedup })),
    ];
    return pieces.length > 0 ? pieces : [empty];
  }

  /** Groups changed since the last call (or since restore), with the current watermark. */
  takeChanges(): EngineChanges {
    return { watermarkUs: this.#watermarkUs, threshold: this.#threshold.takeChanges(), sequence: this.#sequence.takeChanges(), dedup: this.#dedup.takeChanges() };
  }

  /** Replaces the state with a snapshot; state of rules that no longer exist is dropped. */
  restore(snapshot: EngineSnapshot): void {
    this.clear();
    this.applyChanges(snapshot);
  }

  /** Applies a change set or snapshot piece (see engineChangesSchema); does not count as a change. */
  applyChanges(changes: EngineChanges | EngineSnapshot): void {
    this.#watermarkUs = Math.max(this.#watermarkUs, changes.watermarkUs);
    this.#threshold.apply(changes.threshold, this.#known);
    this.#sequence.apply(changes.sequence, this.#known);
    this.#dedup.apply(changes.dedup, this.#known);
  }

  clear(): void {
    this.#watermarkUs = 0;
    this.#threshold.clear();
    this.#sequence.clear();
    this.#dedup.clear();
  }

  /** Whether any rule asks roleRefPowerful (else no binding needs holding for a late role fact). */
  get usesRoleFacts(): boolean {
    return this.#usesRoleFacts;
  }

  #evaluate(rule: CompiledRule, record: AuditRecord, facts: RoleFacts | undefined): Hit | undefined {
    if (!rule.match(record, facts) || rule.excepted(record)) return undefined;
    const ts = record.requestReceivedUs;
    if (rule.threshold) {
      const t = rule.threshold;
      const groupKey = this.#keyOf(record, t.groupBy);
      const g = this.#threshold.get(rule.id, groupKey) ?? { times: [], values: {} };
      const cutoff = ts - t.windowMs * 1000;
      let count: number;
      let firstSeenUs: number;
      if (t.distinct !== undefined) {
        const value = this.#text(record, t.distinct);
        for (const [v, at] of Object.entries(g.values)) if (at <= cutoff) delete g.values[v];
        g.values[value] = ts;
        const times = Object.values(g.values);
        count = times.length;
        firstSeenUs = Math.min(...times);
      } else {
        g.times = g.times.filter((at) => at > cutoff);
        g.times.push(ts);
        count = g.times.length;
        firstSeenUs = g.times[0] ?? ts;
      }
      if (count < t.count) {
        if (this.#threshold.set(rule.id, groupKey, g, this.#maxGroups)) this.#onEvict({ ruleId: rule.id, kind: 'threshold' });
        return undefined;
      }
      // Fired: start counting afresh so the next alert needs another full threshold.
      this.#threshold.delete(rule.id, groupKey);
      return { rule, record, groupKey, count, firstSeenUs, auditIDs: [record.auditID] };
    }
    if (rule.sequence) {
      const s = rule.sequence;
      const key = this.#keyOf(record, s.by);
      let p = this.#sequence.get(rule.id, key);
      if (p && ts - p.startUs > s.windowMs * 1000) {
        this.#sequence.delete(rule.id, key);
        p = undefined;
      }
      const next = p ? s.steps[p.step] : undefined;
      if (p && next?.match(record)) {
        p.step += 1;
        this.#sequence.touch(rule.id, key);
        if (p.step >= s.steps.length) {
          this.#sequence.delete(rule.id, key);
          return { rule, record, groupKey: key, count: 1, firstSeenUs: p.startUs, auditIDs: [record.auditID] };
        }
        return undefined;
      }
      // A fresh first step restarts the window when nothing past it matched yet.
      if (s.steps[0]?.match(record) && (!p || p.step === 1)) {
        if (this.#sequence.set(rule.id, key, { step: 1, startUs: ts }, this.#maxGroups)) this.#onEvict({ ruleId: rule.id, kind: 'sequence' });
      }
      return undefined;
    }
    return { rule, record, groupKey: `${record.cluster}${SEP}${record.auditID}`, count: 1, firstSeenUs: ts, auditIDs: [record.auditID] };
  }

  #emit(hit: Hit): AlertRecord[] {
    const { rule, record } = hit;
    const ts = record.requestReceivedUs;
    if (!rule.dedup) {
      return [this.#toRecord(rule, this.#open(hit, alertId(rule.id, hit.groupKey, hit.firstSeenUs), ts))];
    }
    const key = this.#keyOf(record, rule.dedup.by);
    const open = this.#dedup.get(rule.id, key);
    if (open && ts < open.windowEndUs) {
      this.#dedup.touch(rule.id, key);
      open.count += hit.count;
      open.lastSeenUs = Math.max(open.lastSeenUs, ts);
      for (const id of hit.auditIDs) if (open.auditIDs.length < this.#maxAuditIds) open.auditIDs.push(id);
      return [];
    }
    const out: AlertRecord[] = [];
    // The previous window for this key (if the watermark has not closed it yet) ends now.
    if (open) out.push(...this.#close(rule, open));
    const windowStartUs = hit.firstSeenUs;
    const fresh = { ...this.#open(hit, alertId(rule.id, key, windowStartUs), windowStartUs + rule.dedup.windowMs * 1000), firstCount: hit.count };
    const evicted = this.#dedup.set(rule.id, key, fresh, this.#maxGroups);
    if (evicted) {
      // Its window ends early rather than taking its unsent repeats with it (same id, count so far).
      out.push(...this.#close(rule, evicted[1]));
      this.#onEvict({ ruleId: rule.id, kind: 'dedup' });
    }
    // Leading edge (issue 15 §1): the first occurrence notifies now; repeats fold into one follow-up.
    out.push(this.#toRecord(rule, fresh));
    return out;
  }

  /**
   * What a closing window still owes: a follow-up with the same alert id and the window's total
   * when there were repeats after the first notification (nothing otherwise); a window restored
   * from before leading-edge alerts never notified, so it sends its one folded alert now.
   */
  #close(rule: CompiledRule, open: OpenAlert): AlertRecord[] {
    const windowMs = rule.dedup?.windowMs ?? 0;
    if (open.firstCount === undefined) return [{ ...this.#toRecord(rule, open), summary: open.summary + foldedSuffix(open.count, windowMs) }];
    if (open.count <= open.firstCount) return [];
    return [{ ...this.#toRecord(rule, open), summary: open.summary + followUpSuffix(open.count - open.firstCount, windowMs), followUp: true }];
  }

  #open(hit: Hit, id: string, windowEndUs: number): OpenAlert {
    const r = hit.record;
    return {
      alertId: id,
      windowEndUs,
      count: hit.count,
      firstSeenUs: hit.firstSeenUs,
      lastSeenUs: r.requestReceivedUs,
      summary: this.#render(hit.rule, { ...r, count: hit.count }),
      cluster: r.cluster,
      actor: { id: r.actor.id, displayName: r.actor.displayName, team: r.actor.team },
      objectRef: { resource: r.objectRef.resource, namespace: r.objectRef.namespace, name: r.objectRef.name },
      ownerTeam: r.ownerTeam,
      auditIDs: hit.auditIDs.slice(0, this.#maxAuditIds),
    };
  }

  #toRecord(rule: CompiledRule, open: OpenAlert): AlertRecord {
    return {
      alertId: open.alertId,
      ruleId: rule.id,
      ruleName: rule.name,
      severity: rule.severity,
      tags: [...rule.tags],
      cluster: open.cluster,
      summary: open.summary,
      count: open.count,
      firstSeenUs: open.firstSeenUs,
      lastSeenUs: open.lastSeenUs,
      actor: open.actor,
      objectRef: open.objectRef,
      ownerTeam: open.ownerTeam,
      auditIDs: open.auditIDs,
      createdUs: Math.trunc(this.#nowUs()),
    };
  }
}
