import { AuditRecordCodec, SCHEMA_FINGERPRINT_HEADER, type AuditRecord } from '@kaudit/audit-schema';
import { groupEnrichedRecords, type OutgoingRecord, type Producer } from '@kaudit/kafka';

export interface ProduceEnrichedOptions {
  /** `v2` (default): grouped per key as enrich writes kaudit.audit.enriched.v2; `v1`: one record per event. */
  layout?: 'v1' | 'v2';
  codec?: AuditRecordCodec;
}

/** Writes canonical records to an enriched topic exactly as enrich does (Avro + fingerprint header, key cluster/actor). */
export async function produceEnriched(producer: Producer, topic: string, records: readonly AuditRecord[], options: ProduceEnrichedOptions = {}): Promise<void> {
  const codec = options.codec ?? new AuditRecordCodec();
  for (let i = 0; i < records.length; i += 500) {
    const v1: OutgoingRecord[] = records.slice(i, i + 500).map((r) => ({ key: `${r.cluster}/${r.actor.id}`, value: codec.encode(r), headers: { [SCHEMA_FINGERPRINT_HEADER]: codec.fingerprint, cluster: r.cluster } }));
    await producer.send(topic, options.layout === 'v1' ? v1 : groupEnrichedRecords(v1));
  }
}
