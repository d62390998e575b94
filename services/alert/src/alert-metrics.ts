import { Counter, Histogram, type Registry } from 'prom-client';

/** The alert service's Prometheus metrics (named in the issue: alerts by rule/severity, notifier outcomes/latency). */
export class AlertMetrics {
  readonly evaluated: Counter;
  readonly alerts: Counter<'rule' | 'severity'>;
  readonly deliveries: Counter<'destination' | 'outcome'>;
  readonly deliveryLatency: Histogram<'destination'>;
  readonly groupsEvicted: Counter<'rule' | 'kind'>;
  readonly checkpointWrites: Counter<'kind'>;
  readonly checkpointBytes: Counter<'kind'>;

  constructor(registry: Registry) {
    this.evaluated = new Counter({ name: 'kaudit_alert_records_evaluated_total', help: 'Canonical records evaluated against the rules', registers: [registry] });
    this.alerts = new Counter({ name: 'kaudit_alerts_total', help: 'Alerts produced to kaudit.alerts.v1', labelNames: ['rule', 'severity'], registers: [registry] });
    this.deliveries = new Counter({
      name: 'kaudit_alert_deliveries_total',
      help: 'Notification outcomes per destination: delivered, delivered_late, dead_lettered, duplicate_skipped, backlog_skipped (older than ALERT_MAX_AGE_MS on a destination added after it)',
      labelNames: ['destination', 'outcome'],
      registers: [registry],
    });
    this.deliveryLatency = new Histogram({
      name: 'kaudit_alert_delivery_seconds',
      help: 'From alert creation to the notifier request being accepted',
      labelNames: ['destination'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    });
    this.groupsEvicted = new Counter({
      name: 'kaudit_alert_groups_evicted_total',
      help: 'Rule groups pushed out by ALERT_MAX_GROUPS_PER_RULE: dedup windows are emitted early, threshold/sequence progress is lost',
      labelNames: ['rule', 'kind'],
      registers: [registry],
    });
    this.checkpointWrites = new Counter({
      name: 'kaudit_alert_checkpoint_writes_total',
      help: 'Window-state checkpoint writes: delta (one per batch that changed state) or base (the whole state, when deltas outgrew it)',
      labelNames: ['kind'],
      registers: [registry],
    });
    this.checkpointBytes = new Counter({
      name: 'kaudit_alert_checkpoint_bytes_total',
      help: 'Bytes (gzip) written to the alert state topic for window checkpoints, by kind',
      labelNames: ['kind'],
      registers: [registry],
    });
  }
}
