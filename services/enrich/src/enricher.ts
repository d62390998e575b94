import { SCHEMA_FINGERPRINT_HEADER, type AuditRecord, type AuditRecordCodec, type EventTimeWindow } from '@kaudit/audit-schema';
import type { IncomingRecord, OutgoingRecord } from '@kaudit/kafka';
import { RAW_HEADERS } from '@kaudit/kafka';
import type { IdentityResolver } from './identity/identity-resolver.js';
import { buildAuditRecord, type BuildOptions } from './normalize/build-audit-record.js';
import { decodeRawRecord } from './normalize/decode-raw-record.js';

export type EnrichOutcome = { ok: true; record: AuditRecord; out: OutgoingRecord } | { ok: false; error: unknown };

export interface EnricherDeps {
  identity: IdentityResolver;
  codec: AuditRecordCodec;
  options: BuildOptions;
  /** Event times accepted: KAUDIT_RETENTION_DAYS / KAUDIT_MAX_FUTURE_SKEW_MS, the same as ingest's. */
  window: EventTimeWindow;
}

/** Kafka key of an enriched record: per-actor, so alert's per-user windows stay partition-local. */
export function enrichedKey(record: AuditRecord): string {
  return `${record.cluster}/${record.actor.id}`;
}

/** One raw record → one Avro-encoded enriched record, or the reason it cannot be enriched. */
export class Enricher {
  readonly #deps: EnricherDeps;

  constructor(deps: EnricherDeps) {
    this.#deps = deps;
  }

  async enrich(raw: IncomingRecord): Promise<EnrichOutcome> {
    try {
      const { event, meta } = decodeRawRecord(raw, this.#deps.window);
      const actor = await this.#deps.identity.resolve({ username: event.user.username, groups: event.user.groups ?? [], extra: event.user.extra ?? {} });
      const ownerTeam = this.#deps.identity.ownerTeam(event.objectRef?.namespace ?? null);
      const record = buildAuditRecord(event, meta, { actor, ownerTeam }, this.#deps.options);
      const out: OutgoingRecord = {
        key: enrichedKey(record),
        value: this.#deps.codec.encode(record),
        headers: { [SCHEMA_FINGERPRINT_HEADER]: this.#deps.codec.fingerprint, [RAW_HEADERS.cluster]: record.cluster },
      };
      return { ok: true, record, out };
    } catch (error) {
      return { ok: false, error };
    }
  }
}
