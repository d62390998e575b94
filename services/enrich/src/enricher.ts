import { SCHEMA_FINGERPRINT_HEADER, type AuditRecord, type AuditRecordCodec, type EventTimeWindow } from '@kaudit/audit-schema';
import type { IncomingRecord, OutgoingRecord } from '@kaudit/kafka';
import { RAW_HEADERS } from '@kaudit/kafka';
import type { IdentityResolver } from './identity/identity-resolver.js';
import { buildAuditRecord, type BuildOptions } from './normalize/build-audit-record.js';
import { decodeRawRecord, type DecodedRaw } from './normalize/decode-raw-record.js';
import { RawHeaderMemo } from './normalize/raw-header-memo.js';
import type { Actor } from './identity/actor.js';

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
  /** The fingerprint header's bytes, made once: as a string, Kafka encoding measures and writes 64 characters per record. */
  readonly #fingerprint: Buffer;
  /** The last cluster and received-at headers decoded: a raw.v2 record's events all carry the same. */
  readonly #headers = new RawHeaderMemo();
  /**
   * The last enriched record's headers, frozen, for the next records of the same cluster: groupEnrichedRecords
   * compares each record's headers with its group's, and the same object is the one comparison that neither lists
   * both objects' keys nor compares their values (issue 16); the producer only reads them.
   */
  #out: { cluster: string; headers: Readonly<Record<string, string | Buffer>> } | undefined;
  /**
   * The last enriched key and what it was made of: the events of a raw.v2 record are one user's, so mostly one
   * actor's. The same string again spares building it, and the grouping's Map flattening and hashing it, per event.
   */
  #key: { cluster: string; actorId: string; key: string } | undefined;

  constructor(deps: EnricherDeps) {
    this.#deps = deps;
    this.#fingerprint = Buffer.from(deps.codec.fingerprint);
  }

  /**
   * Synchronous unless the identity needs a remote lookup: the handler then finishes each record — its
   * parsed event garbage at once — before decoding the next, instead of holding a whole batch's events
   * across an await per record (issue 16: that was a large part of enrich's GC).
   */
  enrich(raw: IncomingRecord): EnrichOutcome | Promise<EnrichOutcome> {
    let decoded: DecodedRaw;
    let actor: Actor | Promise<Actor>;
    try {
      decoded = decodeRawRecord(raw, this.#deps.window, this.#headers);
      const user = decoded.event.user;
      actor = this.#deps.identity.resolve({ username: user.username, groups: user.groups ?? [], extra: user.extra ?? {} });
    } catch (error) {
      return { ok: false, error };
    }
    if (actor instanceof Promise) return actor.then((a) => this.#finish(decoded, a), (error: unknown) => ({ ok: false, error }));
    return this.#finish(decoded, actor);
  }

  #outHeaders(cluster: string): Readonly<Record<string, string | Buffer>> {
    if (this.#out === undefined || this.#out.cluster !== cluster) {
      this.#out = { cluster, headers: Object.freeze({ [SCHEMA_FINGERPRINT_HEADER]: this.#fingerprint, [RAW_HEADERS.cluster]: cluster }) };
    }
    return this.#out.headers;
  }

  #keyOf(record: AuditRecord): string {
    const last = this.#key;
    if (last !== undefined && last.cluster === record.cluster && last.actorId === record.actor.id) return last.key;
    const key = enrichedKey(record);
    this.#key = { cluster: record.cluster, actorId: record.actor.id, key };
    return key;
  }

  #finish({ event, meta }: DecodedRaw, actor: Actor): EnrichOutcome {
    try {
      const ownerTeam = this.#deps.identity.ownerTeam(event.objectRef?.namespace ?? null);
      const record = buildAuditRecord(event, meta, { actor, ownerTeam }, this.#deps.options);
      const out: OutgoingRecord = {
        key: this.#keyOf(record),
        value: this.#deps.codec.encode(record),
        headers: this.#outHeaders(record.cluster),
      };
      return { ok: true, record, out };
    } catch (error) {
      return { ok: false, error };
    }
  }
}
