import { splitEnrichedRecord, type IncomingRecord, type KafkaClient } from '@kaudit/kafka';
import { consumeMapped } from './consume-all.js';

/**
 * Reads an enriched topic (either layout: an enriched.v2 record holds many events) until `count` EVENTS arrived
 * (or the timeout passed), one v1-shaped record each (splitEnrichedRecord), in each partition's order. Throws on a
 * damaged frame: enrich never writes one.
 */
export function consumeEnrichedEvents(client: KafkaClient, topic: string, count: number, timeoutMs = 30_000): Promise<IncomingRecord[]> {
  return consumeMapped(
    client,
    topic,
    count,
    (records) =>
      records.flatMap((r) => {
        const split = splitEnrichedRecord(r);
        if (!split.ok) throw new Error(`damaged enriched record ${r.partition}/${r.offset} on ${topic}: ${split.reason}`);
        return split.events;
      }),
    timeoutMs,
  );
}
