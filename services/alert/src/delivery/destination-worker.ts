import { alertRecordSchema } from '@kaudit/audit-schema';
import { KauditError } from '@kaudit/errors';
import type { BatchConsumer, BatchContext, DeadLetterWriter, KafkaAdmin, KafkaClient, RecordBatch } from '@kaudit/kafka';
import type { Telemetry } from '@kaudit/logging';
import type { Component } from '@kaudit/runtime';
import type { Route } from '../notifiers/destination-config.js';
import type { Notifier } from '../notifiers/notifier.js';
import type { AlertMetrics } from '../alert-metrics.js';
import type { CheckpointStore } from '../pipeline/checkpoint-store.js';
import { RateLimiter } from './rate-limiter.js';
import { RecentIds } from './recent-ids.js';
import { routeMatches } from './route-matches.js';
import { sendWithRetry, type RetryPolicy } from './send-with-retry.js';

export interface Destination {
  name: string;
  notifier: Notifier;
  route: Route;
  rateLimit: { perSecond: number; burst: number };
  retry: RetryPolicy;
}

export interface DestinationWorkerOptions {
  kafka: KafkaClient;
  store: CheckpointStore;
  dlq: DeadLetterWriter;
  destination: Destination;
  telemetry: Telemetry;
  metrics: AlertMetrics;
  alertsTopic: string;
  /** The worker's group is `<groupPrefix>-deliver-<destination>`. */
  groupPrefix: string;
  /**
   * An alert older than this (since `createdUs`) is delivered marked late (`lateByMs`) — after an
   * outage the page still goes out. Only on a partition this destination never committed on (it was
   * added later) is such an alert skipped, counted as backlog_skipped: it predates the destination.
   */
  maxAgeMs: number;
  /** How many delivered ids per partition are remembered to refuse duplicates. */
  recentIds: number;
  /**
   * Alerts partitions delivered at once (default 1). Their batches of one fetch then send side by side and their
   * delivered ids go out in one state-topic write, instead of each partition waiting for the ones ahead of it
   * (issue 15: the deliver hop's warm-up p99). Each partition still sees its alerts in order.
   */
  partitionsConcurrently?: number;
  nowMs: () => number;
  sleep: (ms: number) => Promise<void>;
}

/**
 * Delivers kaudit.alerts.v1 to ONE destination, in its own consumer group: a slow or failing
 * destination only delays itself, never the others or the evaluator. Each alert ends delivered or
 * dead-lettered (after retries) before the offset is committed, and the ids it handled are
 * checkpointed first, so a restart neither loses nor re-sends a notification.
 */
export class DestinationWorker implements Component {
  readonly name: string;
  readonly #o: DestinationWorkerOptions;
  readonly #limiter: RateLimiter;
  readonly #telemetry: Telemetry;
  readonly #recent = new Map<number, RecentIds>();
  #consumer: BatchConsumer | undefined;
  readonly #dirty = new Map<number, RecentIds>();
  /** The write in flight: which partitions' ids it carries. */
  #writing: { parts: ReadonlySet<number>; done: Promise<void> } | undefined;
  /** Per partition seen: has this destination committed on it (so it existed when its alerts were written)? */
  readonly #established = new Map<number, boolean>();
  #admin: KafkaAdmin | undefined;

  constructor(options: DestinationWorkerOptions) {
    this.#o = options;
    this.name = `deliver-${options.destination.name}`;
    this.#limiter = new RateLimiter({ ...options.destination.rateLimit, nowMs: options.nowMs, sleep: options.sleep });
    this.#telemetry = options.telemetry.child(this.name);
  }

  async start(): Promise<void> {
    const o = this.#o;
    const admin = o.kafka.admin();
    await admin.start();
    this.#admin = admin;
    // The first lookup finds the group's coordinator (hundreds of ms on a cold broker): done here, not in the
    // first alert's way. A partition committed on already is established for good; one that is not is asked
    // again at its first batch (another instance may commit on it before this one gets it). Only a warm-up:
    // a brand-new group's coordinator may answer NOT_COORDINATOR, and #isEstablished asks again.
    const committed = await admin.fetchCommittedOffsets(this.#groupId(), o.alertsTopic).catch(() => []);
    for (const c of committed) if (c.offset !== '-1') this.#established.set(c.partition, true);
    this.#consumer = o.kafka.consumer({
      groupId: this.#groupId(),
      topics: [o.alertsTopic],
      // Alerts written before this destination's first start are still delivered (within maxAgeMs).
      fromBeginning: true,
      partitionsConsumedConcurrently: o.partitionsConcurrently ?? 1,
      onHandlerError: (err, batch, attempt) => this.#telemetry.emit({ event: 'deliver_batch_failed', level: 'warn', fields: { err, partition: batch.partition, attempt } }),
    });
    await this.#consumer.start((batch, ctx) => this.#handle(batch, ctx));
  }

  async stop(): Promise<void> {
    await this.#consumer?.stop();
    await this.#admin?.stop().catch(() => undefined);
    this.#admin = undefined;
  }

  #groupId(): string {
    return `${this.#o.groupPrefix}-deliver-${this.#o.destination.name}`;
  }

  /**
   * Asked once per partition, at its first batch (the group's coordinator is known by then; a
   * failure throws and the batch is retried): a committed offset means this destination already
   * delivered there, so its old alerts are late pages, not a backlog from before it existed.
   */
  async #isEstablished(partition: number): Promise<boolean> {
    const known = this.#established.get(partition);
    if (known !== undefined) return known;
    if (!this.#admin) throw new KauditError('INTERNAL', `${this.name} not started`);
    const committed = (await this.#admin.fetchCommittedOffsets(this.#groupId(), this.#o.alertsTopic)).find((c) => c.partition === partition);
    const established = committed !== undefined && committed.offset !== '-1';
    this.#established.set(partition, established);
    return established;
  }

  waitForAssignment(timeoutMs?: number): Promise<void> {
    return this.#consumer?.waitForAssignment(timeoutMs) ?? Promise.resolve();
  }

  #recentFor(partition: number): RecentIds {
    let recent = this.#recent.get(partition);
    if (!recent) {
      const saved = this.#o.store.get(this.#storeKey(partition));
      recent = saved ? RecentIds.parse(this.#o.recentIds, saved) : new RecentIds(this.#o.recentIds);
      if (!recent) {
        this.#telemetry.emit({ event: 'delivered_ids_unreadable', level: 'error', fields: { partition } });
        recent = new RecentIds(this.#o.recentIds);
      }
      this.#recent.set(partition, recent);
    }
    return recent;
  }

  /**
   * Coalescing write-behind of a partition's handled ids: one write in flight at a time, and
   * whatever changed meanwhile goes out in the next one (each write carries the whole set), every
   * partition's changes in that one write (one acks=all round trip for all of them).
   */
  #persist(partition: number, recent: RecentIds): void {
    this.#dirty.set(partition, recent);
    this.#startDrain();
  }

  /** Starts the next write, of every dirty partition, unless one is in flight; a successful one starts the next. */
  #startDrain(): void {
    if (this.#writing || this.#dirty.size === 0) return;
    const round = [...this.#dirty];
    this.#dirty.clear();
    const done = this.#o.store.putMany(round.map(([p, ids]) => ({ key: this.#storeKey(p), value: ids.toBuffer() }))).then(
      () => {
        this.#writing = undefined;
        this.#startDrain();
      },
      (err: unknown) => {
        // Keep them dirty so the next flush writes them again; the batches waiting on it fail and are retried
        // (with the consumer's backoff: a failed write does not start the next one by itself).
        for (const [p, ids] of round) if (!this.#dirty.has(p)) this.#dirty.set(p, ids);
        this.#writing = undefined;
        throw err;
      },
    );
    this.#writing = { parts: new Set(round.map(([p]) => p)), done };
    // Observed by #flushPersist; this branch only keeps a failure from being an unhandled rejection.
    done.catch(() => undefined);
  }

  /**
   * Resolves once this partition's handled ids are durable. It waits for the write that carries them, not
   * for every later one: another partition still sending keeps the write-behind busy, not this batch's commit.
   */
  async #flushPersist(partition: number): Promise<void> {
    for (;;) {
      const writing = this.#writing;
      if (writing !== undefined && (writing.parts.has(partition) || this.#dirty.has(partition))) await writing.done;
      else if (this.#dirty.has(partition)) this.#startDrain();
      else return;
    }
  }

  #storeKey(partition: number): string {
    return `sent:${this.#o.destination.name}:${this.#o.alertsTopic}:${partition}`;
  }

  async #handle(batch: RecordBatch, ctx: BatchContext): Promise<void> {
    const o = this.#o;
    const dest = o.destination;
    const recent = this.#recentFor(batch.partition);
    const established = await this.#isEstablished(batch.partition);
    for (const rec of batch.records) {
      const original = { value: rec.value, key: rec.key, headers: rec.headers, topic: rec.topic, partition: rec.partition, offset: rec.offset };
      let json: unknown;
      try {
        json = JSON.parse(rec.value?.toString('utf8') ?? '');
      } catch {
        json = undefined;
      }
      const parsed = alertRecordSchema.safeParse(json);
      if (!parsed.success) {
        await o.dlq.send(original, { code: 'INPUT_INVALID', message: `not an AlertRecord: ${parsed.error.message.slice(0, 1000)}`, stage: `deliver:${dest.name}` });
        continue;
      }
      const alert = parsed.data;
      if (!routeMatches(dest.route, alert)) continue;
      // A follow-up shares its first alert's id (so vendors update that incident) but is its own notification.
      const sentKey = alert.followUp ? `${alert.alertId}/follow-up` : alert.alertId;
      if (recent.has(sentKey)) {
        o.metrics.deliveries.inc({ destination: dest.name, outcome: 'duplicate_skipped' });
        continue;
      }
      const ageMs = Math.max(0, Math.trunc(o.nowMs() - alert.createdUs / 1000));
      const late = ageMs > o.maxAgeMs;
      if (late && !established) {
        o.metrics.deliveries.inc({ destination: dest.name, outcome: 'backlog_skipped' });
        this.#telemetry.emit({ event: 'backlog_alert_skipped', fields: { alertId: alert.alertId, ruleId: alert.ruleId, ageMs } });
        continue;
      }
      // A page after an outage still goes out, saying how late it is (issue 12 §3).
      const toSend = late ? { ...alert, lateByMs: ageMs } : alert;
      const outcome = await sendWithRetry(dest.notifier, toSend, dest.retry, {
        limiter: this.#limiter,
        sleep: o.sleep,
        isRunning: ctx.isRunning,
        heartbeat: ctx.heartbeat,
        onRetry: (error, attempt, delayMs) =>
          this.#telemetry.emit({ event: 'notification_retry', level: 'warn', fields: { alertId: alert.alertId, attempt, delayMs, error: error.message } }),
      });
      if (outcome.ok) {
        o.metrics.deliveries.inc({ destination: dest.name, outcome: late ? 'delivered_late' : 'delivered' });
        o.metrics.deliveryLatency.observe({ destination: dest.name }, Math.max(0, o.nowMs() - alert.createdUs / 1000) / 1000);
        this.#telemetry.emit({
          event: late ? 'late_notification_sent' : 'notification_sent',
          level: late ? 'warn' : 'info',
          fields: { alertId: alert.alertId, ruleId: alert.ruleId, attempts: outcome.attempts, ...(late ? { lateByMs: ageMs } : {}) },
        });
      } else {
        await o.dlq.send(original, { code: 'NOTIFIER_FAILED', message: `${dest.name} after ${outcome.attempts} attempt(s): ${outcome.error.message}`, stage: `deliver:${dest.name}` });
        o.metrics.deliveries.inc({ destination: dest.name, outcome: 'dead_lettered' });
        this.#telemetry.emit({ event: 'notification_dead_lettered', level: 'error', fields: { alertId: alert.alertId, attempts: outcome.attempts, error: outcome.error.message } });
      }
      recent.add(sentKey);
      // Persisted right after each send, without waiting for it (write-behind): a crash re-sends
      // at most the notifications whose id write was still in flight.
      this.#persist(batch.partition, recent);
    }
    // The handled ids are durable before the offset commit that covers these alerts.
    await this.#flushPersist(batch.partition);
    this.#established.set(batch.partition, true);
  }
}
