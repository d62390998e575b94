import { Counter, Histogram, type Registry } from 'prom-client';

/** Ingest's Prometheus metrics; the cluster label only ever holds configured names (bounded cardinality). */
export class IngestMetrics {
  readonly requests: Counter<'code' | 'cluster'>;
  readonly events: Counter<'cluster' | 'outcome' | 'source'>;
  readonly refused: Counter<'cluster' | 'problem' | 'source'>;
  readonly bytes: Counter<'cluster' | 'source'>;
  readonly produceSeconds: Histogram<'topic'>;
  readonly parseSeconds: Histogram;

  constructor(registry: Registry) {
    this.requests = new Counter({ name: 'kaudit_ingest_requests_total', help: 'Webhook requests by HTTP status and cluster', labelNames: ['code', 'cluster'], registers: [registry] });
    this.events = new Counter({
      name: 'kaudit_ingest_events_total',
      help: 'Audit events by outcome: accepted (on the raw topic), rejected (invalid), dead_lettered (written to the DLQ), truncated',
      labelNames: ['cluster', 'outcome', 'source'],
      registers: [registry],
    });
    this.refused = new Counter({
      name: 'kaudit_ingest_events_refused_total',
      help: 'Audit events refused (each also counted as rejected and kept in the DLQ) by rule: invalid-event, invalid-time, too-old (the TTL would delete it on arrival), too-new (past the clock skew), too-large',
      labelNames: ['cluster', 'problem', 'source'],
      registers: [registry],
    });
    this.bytes = new Counter({ name: 'kaudit_ingest_bytes_total', help: 'Body bytes received (as sent, before gzip inflation)', labelNames: ['cluster', 'source'], registers: [registry] });
    this.produceSeconds = new Histogram({
      name: 'kaudit_ingest_produce_seconds',
      help: 'Time from publish to Kafka acknowledgement (acks=-1)',
      labelNames: ['topic'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    this.parseSeconds = new Histogram({
      name: 'kaudit_ingest_parse_seconds',
      help: 'Time to parse and validate a body, including the wait for a parse thread (growth means INGEST_PARSE_THREADS is the limit)',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    });
  }
}
