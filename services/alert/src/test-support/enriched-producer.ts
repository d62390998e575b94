import { AuditRecordCodec, SCHEMA_FINGERPRINT_HEADER, type AuditRecord } from '@kaudit/audit-schema';
import type { Producer } from '@kaudit/kafka';

/** Writes canonical records to an enriched topic exactly as enrich does (Avro + fingerprint header, key cluster/actor). */
export async function produceEnriched(producer: Producer, topic: string, records: readonly AuditRecord[], codec = new AuditRecordCodec()): Promise<void> {
  for (let i = 0; i < records.length; i += 500) {
    await producer.send(
      topic,
      records.slice(i, i + 500).map((r) => ({ key: `${r.cluster}/${r.actor.id}`, value: codec.encode(r), headers: { [SCHEMA_FINGERPRINT_HEADER]: codec.fingerprint } })),
    );
  }
}
