import { type AlertRecord, type AuditRecord, type AuditRecordCodec, SCHEMA_FINGERPRINT_HEADER } from '@kaudit/audit-schema';
import { KauditError } from '@kaudit/errors';
import { ENRICHED_EVENT_INDEX_HEADER, headerString, splitEnrichedRecord, type BatchConsumer, type DeadLetterWriter, type KafkaAdmin, type KafkaClient, type Producer, type RecordBatch } from '@kaudit/kafka';
import type { Telemetry } from '@kaudit/logging';
import type { Component } from '@kaudit/runtime';
import type { CompiledRule } from '../rules/compiled-rule.js';
import { roleFactOf, type RoleFacts } from '../rules/role-fact.js';
import { HELD_BINDING_PREFIX, heldBindingEntry, parseHeldBinding } from '../engine/held-binding.js';
import { changedGroups, mergeChanges, RuleEngine, type EngineChanges } from '../engine/rule-engine.js';
import type { AlertMetrics } from '../alert-metrics.js';
import type { CheckpointStore } from './checkpoint-store.js';
import { WindowCheckpoint } from './window-checkpoint.js';

export interface AlertEvaluatorOptions {
  kafka: KafkaClient;
  producer: Producer;
  dlq: DeadLetterWriter;
  store: CheckpointStore;
  codec: AuditRecordCodec;
  rules: readonly CompiledRule[];
  telemetry: Telemetry;
  metrics: AlertMetrics;
  /** The enriched topics read (both layouts by default: v2 and v1, told apart by the value's magic). */
  inputTopics: readonly string[];
  alertsTopic: string;
  groupId: string;
  fromBeginning: boolean;
  /** A partition with no batch for this long is idle: its due dedup windows close on the wall clock. */
  idleGraceMs: number;
  tickMs: number;
  /** Bound on open groups per rule per partition (see RuleEngine). */
  maxGroupsPerRule?: number;
  /**
   * How long (wall clock) a binding to a role not known powerful waits for that role's fact, which
   * another partition or process may publish after the binding was read (see held-binding.ts).
   */
  roleFactGraceMs: number;
  /**
   * Partitions whose batches are handled at once (default 1). Their batches are evaluated one at a time and their
   * effects made durable together (see #join): one produce of alerts and one of checkpoints per round.
   */
  partitionsConcurrently?: number;
  /** Sizing of the incremental window checkpoints (defaults in WindowCheckpoint). */
  checkpoint?: { chunkGroups?: number; minCompactBytes?: number; maxDeltas?: number };
  nowMs: () => number;
}

interface PartitionState {
  topic: string;
  partition: number;
  engine: RuleEngine;
  /** First offset not yet folded into `engine` (records below it are skipped on redelivery). */
  nextOffset: bigint;
  lastBatchMs: number;
  /** Alerts computed but not yet acknowledged by Kafka; produced first on the next attempt. */
  pending: AlertRecord[];
  /** Undecodable records not yet acknowledged by the DLQ (their offsets are already past nextOffset). */
  pendingDead: DeadLetter[];
  checkpoint: WindowCheckpoint;
  /** Engine changes taken but not yet acknowledged by the state topic (written with the next save). */
  unsaved: EngineChanges | undefined;
  /**
   * Records since the last save had an effect outside the engine (alerts produced, records
   * dead-lettered): the next save must record nextOffset even if no group changed, or a crash
   * before the offset commit would produce them again.
   */
  offsetUnsaved: boolean;
  /**
   * Role facts learnt from this partition's records and bindings held for a role's fact, not yet
   * acknowledged by the state topic (written before the offset commit); null = remove the key.
   */
  facts: Map<string, Buffer | null>;
}

type DeadLetter = Parameters<DeadLetterWriter['sendMany']>[0][number];


/**
 * Consumes canonical records, evaluates the rules per partition and produces alerts to
 * kaudit.alerts.v1. Per batch, in this order: alerts produced → engine changes checkpointed (with the
 * next offset they cover; see WindowCheckpoint) → offsets committed (by the BatchConsumer). A crash
 * anywhere re-reads at most the uncommitted batch; records the checkpoint already covers are
 * skipped, so window state is exact after a restart, and any re-produced alert has the same
 * deterministic id. A batch that changed nothing and emitted nothing writes no checkpoint: reading
 * it again after a crash would change nothing either.
 */
export class AlertEvaluator implements Component {
  readonly name = 'alert-evaluator';
  readonly #o: AlertEvaluatorOptions;
  readonly #partitions = new Map<string, PartitionState>();
  #consumer: BatchConsumer | undefined;
  /**
   * One admin connection for the evaluator's life: a newly assigned partition asks for its committed
   * offset, and connecting afresh each time cost ~300 ms per partition — seconds of alert latency
   * after every start or rebalance, all partitions being set up one after another.
   */
  #admin: KafkaAdmin | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Batches and idle flushes run one at a time: both mutate the same engines. */
  #serial: Promise<unknown> = Promise.resolve();
  /** The round of partitions waiting to be made durable together (see #join); undefined when none gathers. */
  #gathering: { parts: Set<PartitionState>; done: Promise<void> } | undefined;
  /**
   * Role facts are shared by every partition and process through the state topic, which each
   * store reads whole before the service is ready and keeps following: a role written by one user
   * (one partition) is known when another user's binding (another partition) is evaluated. A fact
   * value is the JSON reasons; a role made harmless or deleted is removed (a tombstone).
   */
  readonly #facts: RoleFacts = { isPowerful: (key) => this.#o.store.get(key) !== undefined };

  constructor(options: AlertEvaluatorOptions) {
    this.#o = options;
  }

  async start(): Promise<void> {
    const o = this.#o;
    const admin = o.kafka.admin();
    await admin.start();
    this.#admin = admin;
    // The first lookup finds the group's coordinator (hundreds of ms); done here, before any
    // record waits on it. Only a warm-up: a brand-new group's coordinator may still answer
    // NOT_COORDINATOR, which kafkajs' admin does not retry — a later lookup fails its batch, retried.
    await admin.fetchCommittedOffsets(o.groupId, o.inputTopics[0] ?? '').catch(() => undefined);
    this.#consumer = o.kafka.consumer({
      groupId: o.groupId,
      topics: [...o.inputTopics],
      fromBeginning: o.fromBeginning,
      partitionsConsumedConcurrently: o.partitionsConcurrently ?? 1,
      onHandlerError: (err, batch, attempt) =>
        o.telemetry.emit({ event: 'evaluate_batch_failed', level: 'warn', fields: { err, partition: batch.partition, attempt } }),
    });
    await this.#consumer.start((batch) => this.#handle(batch));
    this.#timer = setInterval(() => {
      void this.#exclusive(() => this.#flushIdle()).catch((err: unknown) =>
        o.telemetry.emit({ event: 'idle_flush_failed', level: 'warn', fields: { err } }),
      );
    }, o.tickMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#consumer?.stop();
    await this.#serial.catch(() => undefined);
    await this.#admin?.stop().catch(() => undefined);
    this.#admin = undefined;
  }

  waitForAssignment(timeoutMs?: number): Promise<void> {
    return this.#consumer?.waitForAssignment(timeoutMs) ?? Promise.reject(new KauditError('INTERNAL', 'evaluator not started'));
  }

  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#serial.then(work, work);
    this.#serial = run.catch(() => undefined);
    return run;
  }

  #key(topic: string, partition: number): string {
    return `eval:${topic}:${partition}`;
  }

  async #partition(batch: RecordBatch): Promise<PartitionState> {
    const key = this.#key(batch.topic, batch.partition);
    const held = this.#partitions.get(key);
    const first = BigInt(batch.firstOffset);
    if (held && first <= held.nextOffset) return held;
    // Not held, or a gap: another instance may have processed this partition since our store
    // caught up (rebalance), so catch up first. Only a partition the group already committed on can
    // have a newer checkpoint elsewhere; a brand-new one needs no wait.
    if (held || (await this.#committedOffset(batch.topic, batch.partition)) !== undefined) await this.#o.store.reload();
    const state: PartitionState = {
      topic: batch.topic,
      partition: batch.partition,
      engine: this.#engine(batch.partition),
      nextOffset: first,
      lastBatchMs: this.#o.nowMs(),
      pending: [],
      pendingDead: [],
      checkpoint: new WindowCheckpoint({ kv: this.#o.store, key, nowMs: this.#o.nowMs, ...this.#o.checkpoint }),
      unsaved: undefined,
      offsetUnsaved: false,
      facts: new Map(),
    };
    try {
      const restoredTo = state.checkpoint.restoreInto(state.engine);
      if (restoredTo !== undefined) {
        state.nextOffset = restoredTo;
        this.#o.telemetry.emit({ event: 'window_state_restored', fields: { partition: batch.partition, nextOffset: restoredTo.toString(), groups: state.engine.stateSize() } });
      }
    } catch (err) {
      // Unreadable state cannot be retried into shape: start the windows afresh, loudly.
      this.#o.telemetry.emit({ event: 'checkpoint_unreadable', level: 'error', fields: { key, err } });
      state.engine = this.#engine(batch.partition);
      state.checkpoint = new WindowCheckpoint({ kv: this.#o.store, key, nowMs: this.#o.nowMs, ...this.#o.checkpoint });
    }
    this.#partitions.set(key, state);
    return state;
  }

  #engine(partition: number): RuleEngine {
    return new RuleEngine({
      rules: this.#o.rules,
      nowUs: () => this.#o.nowMs() * 1000,
      maxGroupsPerRule: this.#o.maxGroupsPerRule,
      onEvict: ({ ruleId, kind }) => {
        this.#o.metrics.groupsEvicted.inc({ rule: ruleId, kind });
        this.#o.telemetry.emit({ event: 'rule_group_evicted', level: 'warn', fields: { ruleId, kind, partition } });
      },
    });
  }

  /**
   * Evaluates a batch, then waits for the round that makes its effects durable (alerts produced, dead letters
   * written, facts and window changes checkpointed); the consumer commits its offsets once this resolves.
   */
  async #handle(batch: RecordBatch): Promise<void> {
    const { p, evaluated, dead } = await this.#exclusive(() => this.#evaluate(batch));
    await this.#join(p);
    this.#o.metrics.evaluated.inc(evaluated);
    if (dead > 0) this.#o.telemetry.emit({ event: 'records_dead_lettered', level: 'warn', fields: { count: dead, partition: batch.partition } });
  }

  /** Folds a batch's records into its partition's engine; alerts and dead letters wait in the partition state. */
  async #evaluate(batch: RecordBatch): Promise<{ p: PartitionState; evaluated: number; dead: number }> {
    const o = this.#o;
    const p = await this.#partition(batch);
    let evaluated = 0;
    let dead = 0;
    for (const rec of batch.records) {
      const offset = BigInt(rec.offset);
      if (offset < p.nextOffset) continue; // already folded into the restored state
      // An enriched.v2 record holds several events (of one key, in order): each is folded, or dead-lettered alone
      // with its index, as a v1 record would be. A record is folded whole within this synchronous loop, so the
      // checkpoint's next offset (record-granular) never falls inside one.
      const split = splitEnrichedRecord(rec);
      if (!split.ok) {
        dead++;
        p.pendingDead.push({
          original: { value: rec.value, key: rec.key, headers: rec.headers, topic: rec.topic, partition: rec.partition, offset: rec.offset },
          reason: { code: 'INPUT_INVALID', message: split.reason, stage: 'read-frame' },
        });
        p.nextOffset = offset + 1n;
        continue;
      }
      for (let i = 0; i < split.events.length; i++) {
        const ev = split.events[i] as typeof rec;
        let record: AuditRecord;
        try {
          if (ev.value === null) throw new KauditError('INPUT_INVALID', 'record has no value');
          record = o.codec.decode(ev.value, headerString(ev.headers, SCHEMA_FINGERPRINT_HEADER));
        } catch (err) {
          const reason = err instanceof Error ? err.message : String(err);
          dead++;
          const headers = split.layout === 'v1' ? ev.headers : { ...ev.headers, [ENRICHED_EVENT_INDEX_HEADER]: Buffer.from(String(i)) };
          p.pendingDead.push({
            original: { value: ev.value, key: ev.key, headers, topic: ev.topic, partition: ev.partition, offset: ev.offset },
            reason: { code: 'INPUT_INVALID', message: reason, stage: 'decode-avro' },
          });
          continue;
        }
        p.pending.push(...p.engine.process(record, { facts: this.#facts }));
        this.#learnRoleFact(p, record);
        if (p.engine.usesRoleFacts) {
          const held = heldBindingEntry(record, this.#facts, o.nowMs() + o.roleFactGraceMs);
          if (held) p.facts.set(held.key, held.value);
        }
        evaluated++;
      }
      p.nextOffset = offset + 1n;
    }
    p.pending.push(...p.engine.flush());
    p.lastBatchMs = o.nowMs();
    // Kept in the partition state until acknowledged: a retried batch skips these offsets.
    if (p.pendingDead.length > 0) p.offsetUnsaved = true;
    return { p, evaluated, dead };
  }

  /**
   * Resolves once `p`'s evaluated state is durable. Group commit: the partitions evaluated while a round waits
   * for its turn (the batches of one fetch reach their handlers in the same turn of the event loop) are made
   * durable in the next round together — one produce of their alerts and one of their checkpoints instead of
   * one of each per partition, each an acks=all round trip. Per partition batch that serial chain of round
   * trips was the alert hop's latency at 5,000 events/s: a record waited for every partition ahead of it.
   * A failed round fails every batch in it; each is retried (its folded records skipped, its alerts kept).
   */
  #join(p: PartitionState): Promise<void> {
    let round = this.#gathering;
    if (round === undefined) {
      const parts = new Set<PartitionState>();
      const started = new Promise<void>((resolve) => setImmediate(resolve));
      const done = started.then(() =>
        this.#exclusive(async () => {
          // From here on a partition evaluated joins the next round.
          if (this.#gathering?.parts === parts) this.#gathering = undefined;
          await this.#makeDurable([...parts]);
        }),
      );
      round = { parts, done };
      this.#gathering = round;
    }
    round.parts.add(p);
    return round.done;
  }

  /** The effects of these partitions' evaluated records, durable in the order that makes a crash safe. */
  async #makeDurable(parts: readonly PartitionState[]): Promise<void> {
    await this.#o.dlq.sendMany(parts.flatMap((p) => p.pendingDead));
    for (const p of parts) p.pendingDead = [];
    let published = false;
    for (const p of parts) if (await this.#saveFacts(p)) published = true;
    await this.#commitStates(parts);
    // New facts or holds may resolve a binding now; otherwise the tick looks (scanning keys per batch would cost).
    if (published) await this.#resolveHeldBindings();
  }

  /** Records what a successful Role/ClusterRole write says about it, to publish before the offset commit. */
  #learnRoleFact(p: PartitionState, record: AuditRecord): void {
    const fact = roleFactOf(record);
    if (fact === undefined) return;
    if (fact.powerful.length > 0) p.facts.set(fact.key, Buffer.from(JSON.stringify({ powerful: fact.powerful })));
    // A harmless role needs an entry only to overwrite a powerful one (every role ever written would be kept).
    else if (p.facts.has(fact.key) || this.#o.store.get(fact.key) !== undefined) p.facts.set(fact.key, null);
  }

  /**
   * Publishes this partition's new role facts and held bindings to the state topic, where every
   * process's store sees them. Before the offset commit: a crash re-reads the records and learns
   * them again.
   */
  async #saveFacts(p: PartitionState): Promise<boolean> {
    if (p.facts.size === 0) return false;
    const entries = [...p.facts].flatMap(([key, value]) => (value === null ? [] : [{ key, value }]));
    const removed = [...p.facts].flatMap(([key, value]) => (value === null ? [key] : []));
    await this.#o.store.putMany(entries);
    await this.#o.store.remove(removed);
    this.#o.telemetry.emit({ event: 'role_facts_published', level: 'debug', fields: { partition: p.partition, entries: entries.length, removed: removed.length } });
    p.facts.clear();
    return true;
  }

  /**
   * Held bindings (every process's: they live in the state topic) whose role is now known powerful
   * alert; those whose grace ran out are released. Any process may resolve any binding, so one held
   * by a process that stopped — or for a partition that has gone quiet since — is not lost. Each is
   * evaluated alone by a fresh engine, so every process computes the same alert (same id): if two
   * resolve it at once, delivery's recent ids fold the copy, as after a crash. The alert is
   * produced before the entry is released, so a crash in between only repeats it.
   */
  async #resolveHeldBindings(): Promise<void> {
    const o = this.#o;
    const alerts: AlertRecord[] = [];
    const released: string[] = [];
    let expired = 0;
    const now = o.nowMs();
    for (const key of o.store.keys(HELD_BINDING_PREFIX)) {
      const value = o.store.get(key);
      if (value === undefined) continue;
      const held = parseHeldBinding(value);
      if (held === undefined) {
        o.telemetry.emit({ event: 'held_binding_unreadable', level: 'error', fields: { key } });
        released.push(key);
      } else if (this.#facts.isPowerful(held.roleKey)) {
        const engine = this.#engine(-1);
        alerts.push(...engine.process(held.record, { facts: this.#facts, roleFactRulesOnly: true }), ...engine.flush({ idleNowUs: Number.MAX_SAFE_INTEGER }));
        released.push(key);
      } else if (now >= held.untilMs) {
        // Its role was not made powerful in time: a binding to a role not known powerful — correct, counted.
        expired++;
        released.push(key);
      }
    }
    if (released.length === 0) return;
    if (alerts.length > 0) {
      await o.producer.send(o.alertsTopic, alerts.map((a) => ({ key: a.alertId, value: JSON.stringify(a) })));
      for (const a of alerts) o.metrics.alerts.inc({ rule: a.ruleId, severity: a.severity });
      o.telemetry.emit({ event: 'alerts_produced', fields: { count: alerts.length, partition: -1 } });
    }
    await o.store.remove(released);
    o.telemetry.emit({ event: 'held_bindings_resolved', level: alerts.length > 0 ? 'info' : 'debug', fields: { alerts: alerts.length, expired, released: released.length } });
  }

  /**
   * Produces the partitions' pending alerts (one send), then checkpoints their engine changes (the store
   * coalesces the writes made together into one send): the order that makes a crash safe.
   */
  async #commitStates(parts: readonly PartitionState[]): Promise<void> {
    const o = this.#o;
    const alerting = parts.filter((p) => p.pending.length > 0);
    if (alerting.length > 0) {
      const alerts = alerting.flatMap((p) => p.pending);
      for (const p of alerting) p.offsetUnsaved = true;
      await o.producer.send(
        o.alertsTopic,
        alerts.map((a) => ({ key: a.alertId, value: JSON.stringify(a) })),
      );
      for (const a of alerts) o.metrics.alerts.inc({ rule: a.ruleId, severity: a.severity });
      for (const p of alerting) {
        o.telemetry.emit({ event: 'alerts_produced', fields: { count: p.pending.length, partition: p.partition } });
        p.pending = [];
      }
    }
    const saves = await Promise.allSettled(parts.map((p) => this.#checkpoint(p)));
    const failed = saves.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Checkpoints what the partition's engine changed (and its next offset) since the last acknowledged save. */
  async #checkpoint(p: PartitionState): Promise<void> {
    const o = this.#o;
    const taken = p.engine.takeChanges();
    const changes = p.unsaved ? mergeChanges(p.unsaved, taken) : taken;
    // Held until acknowledged: a failed save is retried with these plus whatever changed since.
    p.unsaved = changes;
    if (changedGroups(changes) === 0 && !p.offsetUnsaved) return;
    const writes = await p.checkpoint.save(p.engine, changes, p.nextOffset);
    p.unsaved = undefined;
    p.offsetUnsaved = false;
    for (const w of writes) {
      o.metrics.checkpointWrites.inc({ kind: w.kind });
      o.metrics.checkpointBytes.inc({ kind: w.kind }, w.bytes);
      o.telemetry.emit({ event: 'checkpoint_written', level: 'debug', fields: { partition: p.partition, kind: w.kind, groups: w.groups, records: w.records, bytes: w.bytes, nextOffset: p.nextOffset.toString() } });
    }
  }

  async #committedOffset(topic: string, partition: number): Promise<bigint | undefined> {
    if (!this.#admin) throw new KauditError('INTERNAL', 'evaluator not started');
    const offsets = await this.#admin.fetchCommittedOffsets(this.#o.groupId, topic);
    const mine = offsets.find((o) => o.partition === partition);
    return mine === undefined || mine.offset === '-1' ? undefined : BigInt(mine.offset);
  }

  async #flushIdle(): Promise<void> {
    const now = this.#o.nowMs();
    for (const [key, p] of this.#partitions) {
      if (now - p.lastBatchMs < this.#o.idleGraceMs) continue;
      p.pending.push(...p.engine.flush({ idleNowUs: now * 1000 }));
      if (p.pending.length === 0) continue;
      // A quiet partition may have been revoked (the consumer API has no revocation hook): if the
      // group committed past what we hold, another instance owns it — drop our stale copy rather
      // than emit from it or overwrite its checkpoint.
      const committed = await this.#committedOffset(p.topic, p.partition);
      if (committed !== undefined && committed > p.nextOffset) {
        this.#partitions.delete(key);
        this.#o.telemetry.emit({ event: 'stale_partition_dropped', fields: { partition: p.partition } });
        continue;
      }
      await this.#commitStates([p]);
    }
    // Facts from other partitions and processes arrive at any time: held bindings are checked every tick.
    await this.#resolveHeldBindings();
  }
}
