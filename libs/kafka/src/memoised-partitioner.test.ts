import { describe, expect, it } from 'vitest';
import { memoisedPartitioner, type PartitionerInput } from './memoised-partitioner.js';

/** A stand-in for kafkajs' partitioner: pure in (key, partition count), round-robin without a key. */
function referencePartitioner(): (args: PartitionerInput) => number {
  let next = 0;
  return ({ partitionMetadata, message }) => {
    if (message.partition !== undefined && message.partition !== null) return message.partition;
    if (message.key === undefined || message.key === null) return next++ % partitionMetadata.length;
    let h = 0;
    for (const byte of Buffer.from(message.key)) h = (h * 31 + byte) >>> 0;
    return h % partitionMetadata.length;
  };
}

const partitions = (n: number) => Array.from({ length: n }, (_, partition) => ({ partition }));

describe('memoisedPartitioner', () => {
  it('answers what the partitioner it memoises answers, for every key, topic, partition count and kind of message', () => {
    const reference = referencePartitioner();
    const memoised = memoisedPartitioner(referencePartitioner(), 50);
    const calls: PartitionerInput[] = [];
    for (let round = 0; round < 3; round++) {
      for (const [topic, count] of [['raw', 6], ['raw', 12], ['dlq', 1], ['other', 6], ['other', 7]] as const) {
        for (let user = 0; user < 40; user++) calls.push({ topic, partitionMetadata: partitions(count), message: { key: `cluster-a/user-${user}` } });
        calls.push({ topic, partitionMetadata: partitions(count), message: { key: null } });
        calls.push({ topic, partitionMetadata: partitions(count), message: { key: 'cluster-a/user-1', partition: 0 } });
        calls.push({ topic, partitionMetadata: partitions(count), message: { key: Buffer.from('cluster-a/user-2') } });
      }
    }
    const spread = new Set<string>();
    for (const call of calls) {
      const want = reference(call);
      expect(memoised(call)).toBe(want);
      spread.add(`${call.topic}/${want}`);
    }
    // The keys do spread, so a memo that answered one partition for all could not pass.
    expect(spread.size).toBeGreaterThan(10);
  });
});
