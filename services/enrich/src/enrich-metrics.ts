import { Counter, Gauge, type Registry } from 'prom-client';

/** Prometheus metrics of the enrich service (registered on the injected registry, never the global one). */
export class EnrichMetrics {
  readonly records: Counter<'outcome'>;
  readonly identities: Counter<'resolved_by' | 'remote'>;
  readonly operations: Counter<'operation'>;
  readonly lag: Gauge<'topic' | 'partition'>;

  constructor(registry: Registry) {
    this.records = new Counter({ name: 'kaudit_enrich_records_total', help: 'Raw records handled, by outcome (enriched, dead_lettered)', labelNames: ['outcome'], registers: [registry] });
    this.identities = new Counter({
      name: 'kaudit_enrich_identities_total',
      help: 'Identities resolved, by resolver (builtin, directory-file, http-directory, unresolved) and remote lookup outcome',
      labelNames: ['resolved_by', 'remote'],
      registers: [registry],
    });
    this.operations = new Counter({ name: 'kaudit_enrich_operations_total', help: 'Enriched records by operation class', labelNames: ['operation'], registers: [registry] });
    this.lag = new Gauge({ name: 'kaudit_enrich_lag_records', help: 'Records behind the high watermark after the last handled batch', labelNames: ['topic', 'partition'], registers: [registry] });
  }
}
