import type { IncomingRecord, KafkaClient } from '@kaudit/kafka';
import { uniqueName } from './test-endpoints.js';

/**
 * Reads a topic from the beginning with a throw-away group until `count` records arrived (or the
 * timeout passed) and returns them. For assertions on what a service produced.
 */
export async function consumeAll(client: KafkaClient, topic: string, count: number, timeoutMs = 30_000): Promise<IncomingRecord[]> {
  const records: IncomingRecord[] = [];
  const consumer = client.consumer({ groupId: uniqueName('read'), topics: [topic], fromBeginning: true });
  let done: () => void = () => undefined;
  const enough = new Promise<void>((resolve) => {
    done = resolve;
  });
  await consumer.start(async (batch) => {
    records.push(...batch.records);
    if (records.length >= count) done();
  });
  const timer = setTimeout(done, timeoutMs);
  if (count === 0) done();
  await enough;
  clearTimeout(timer);
  await consumer.stop();
  return records;
}
