import { Counter, Gauge, type Registry } from 'prom-client';
import type { Actor } from './identity/actor.js';
import type { HttpLookup } from './identity/http-directory.js';

type RemoteOutcome = HttpLookup['status'] | 'skipped';

/** Prometheus metrics of the enrich service (registered on the injected registry, never the global one). */
export class EnrichMetrics {
  readonly records: Counter<'outcome'>;
  readonly identities: Counter<'resolved_by' | 'remote'>;
  readonly operations: Counter<'operation'>;
  readonly lag: Gauge<'topic' | 'partition'>;
  /**
   * Identities resolved since the last scrape, added to `identities` when it is read: a labelled inc() hashes and
   * validates its labels on every call, and this one is counted once per record (issue 16).
   */
  readonly #resolved = new Map<Actor['resolvedBy'], Map<RemoteOutcome, number>>();

  constructor(registry: Registry) {
    this.records = new Counter({ name: 'kaudit_enrich_records_total', help: 'Raw records handled, by outcome (enriched, dead_lettered)', labelNames: ['outcome'], registers: [registry] });
    const resolved = this.#resolved;
    this.identities = new Counter({
      name: 'kaudit_enrich_identities_total',
      help: 'Identities resolved, by resolver (builtin, directory-file, http-directory, unresolved) and remote lookup outcome',
      labelNames: ['resolved_by', 'remote'],
      registers: [registry],
      // prom-client calls it before reading the values (a scrape, registry.metrics(), get()).
      collect() {
        for (const [resolvedBy, byRemote] of resolved) for (const [remote, count] of byRemote) this.inc({ resolved_by: resolvedBy, remote }, count);
        resolved.clear();
      },
    });
    this.operations = new Counter({ name: 'kaudit_enrich_operations_total', help: 'Enriched records by operation class', labelNames: ['operation'], registers: [registry] });
    this.lag = new Gauge({ name: 'kaudit_enrich_lag_records', help: 'Records behind the high watermark after the last handled batch', labelNames: ['topic', 'partition'], registers: [registry] });
  }

  /** Counts one resolved identity into kaudit_enrich_identities_total (visible from the next read of it). */
  identityResolved(resolvedBy: Actor['resolvedBy'], remote: RemoteOutcome): void {
    let byRemote = this.#resolved.get(resolvedBy);
    if (byRemote === undefined) this.#resolved.set(resolvedBy, (byRemote = new Map()));
    byRemote.set(remote, (byRemote.get(remote) ?? 0) + 1);
  }
}
