import { setTimeout as sleep } from 'node:timers/promises';
import type { KafkaAdmin } from '@kaudit/kafka';

/** A consumer group and one topic it reads. */
export interface GroupTopic {
  group: string;
  topic: string;
}

/** Records written to `topic` that `group` has not committed yet, summed over its partitions. */
async function groupLag(admin: KafkaAdmin, { group, topic }: GroupTopic): Promise<bigint> {
  const ends = await admin.fetchTopicOffsets(topic);
  const committed = new Map((await admin.fetchCommittedOffsets(group, topic)).map((c) => [c.partition, BigInt(c.offset)]));
  let lag = 0n;
  for (const e of ends) {
    const high = BigInt(e.high);
    const done = committed.get(e.partition) ?? -1n;
    // -1: nothing committed yet, so the whole partition (from its low watermark) is behind.
    lag += done < 0n ? high - BigInt(e.low) : high > done ? high - done : 0n;
  }
  return lag;
}

/**
 * Waits until every group has committed everything written to its topic — each service has made durable all it
 * was given — and returns at once when it has. A consumer commits only after its work is durable, so a drained
 * pipeline has nothing left in flight: what a test then finds missing was lost, not late. Throws, naming each
 * group's lag, when that does not happen within `timeoutMs` (a stalled service, not a lost record). Give the pairs
 * in pipeline order (a stage before the stages that read its output).
 */
export async function waitUntilDrained(admin: KafkaAdmin, pairs: readonly GroupTopic[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // One after the other, in the order given: a stage seen drained has written all its output before the next
    // stage's topic end is read.
    const lags: (GroupTopic & { lag: bigint })[] = [];
    for (const p of pairs) lags.push({ ...p, lag: await groupLag(admin, p) });
    if (lags.every((l) => l.lag === 0n)) return;
    if (Date.now() >= deadline) {
      throw new Error(`the pipeline did not drain within ${timeoutMs} ms: ${lags.map((l) => `${l.group} on ${l.topic} is ${l.lag} record(s) behind`).join('; ')}`);
    }
    await sleep(500);
  }
}
