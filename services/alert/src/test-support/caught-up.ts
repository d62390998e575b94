import { setTimeout as sleep } from 'node:timers/promises';
import type { KafkaAdmin } from '@kaudit/kafka';

/** Waits until the group has committed everything written to the topic (the service processed it all). */
export async function caughtUp(admin: KafkaAdmin, group: string, topic: string): Promise<void> {
  for (;;) {
    const ends = await admin.fetchTopicOffsets(topic);
    const committed = new Map((await admin.fetchCommittedOffsets(group, topic)).map((c) => [c.partition, BigInt(c.offset)]));
    if (ends.every((e) => BigInt(e.high) === 0n || (committed.get(e.partition) ?? -1n) >= BigInt(e.high))) return;
    await sleep(200);
  }
}
