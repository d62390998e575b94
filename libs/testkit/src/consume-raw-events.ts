import { splitRawRecord, type IncomingRecord, type KafkaClient } from '@kaudit/kafka';
import { consumeAll } from './consume-all.js';

/**
 * Every audit event on a raw topic now, one v1-shaped record each (splitRawRecord: a raw.v2 record holds many),
 * in each partition's order. Reads exactly the records there are (sum of high watermarks), so a count of events is
 * exact. Throws on a damaged frame: ingest never writes one.
 */
export async function consumeRawEvents(client: KafkaClient, topic: string, timeoutMs = 30_000): Promise<IncomingRecord[]> {
  const admin = client.admin();
  await admin.start();
  let total: number;
  try {
    total = (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
  } finally {
    await admin.stop();
  }
  const records = await consumeAll(client, topic, total, timeoutMs);
  if (records.length < total) throw new Error(`read ${records.length} of the ${total} records on ${topic}`);
  return records.flatMap((r) => {
    const split = splitRawRecord(r);
    if (!split.ok) throw new Error(`damaged raw record ${r.partition}/${r.offset} on ${topic}: ${split.reason}`);
    return split.events;
  });
}
