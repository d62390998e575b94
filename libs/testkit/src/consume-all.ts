import type { IncomingRecord, KafkaClient } from '@kaudit/kafka';
import { uniqueName } from './test-endpoints.js';

/**
 * Reads a topic from the beginning with a throw-away group, each batch's records mapped by `map` (e.g. split into
 * their events), until `count` items arrived (or the timeout passed), and returns them.
 */
export async function consumeMapped<T>(client: KafkaClient, topic: string, count: number, map: (records: IncomingRecord[]) => T[], timeoutMs = 30_000): Promise<T[]> {
  const items: T[] = [];
  const consumer = client.consumer({ groupId: uniqueName('read'), topics: [topic], fromBeginning: true });
  let done: () => void = () => undefined;
  const enough = new Promise<void>((resolve) => {
    done = resolve;
  });
  await consumer.start(async (batch) => {
    items.push(...map(batch.records));
    if (items.length >= count) done();
  });
  const timer = setTimeout(done, timeoutMs);
  if (count === 0) done();
  await enough;
  clearTimeout(timer);
  await consumer.stop();
  return items;
}

/**
 * Reads a topic from the beginning with a throw-away group until `count` records arrived (or the
 * timeout passed) and returns them. For assertions on what a service produced.
 */
export function consumeAll(client: KafkaClient, topic: string, count: number, timeoutMs = 30_000): Promise<IncomingRecord[]> {
  return consumeMapped(client, topic, count, (records) => records, timeoutMs);
}
