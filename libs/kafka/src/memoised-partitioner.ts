/** What kafkajs hands a partitioner, narrowed to what a memo needs (kafkajs' own types stay in kafkajs-adapter.ts). */
export interface PartitionerInput {
  topic: string;
  partitionMetadata: readonly unknown[];
  message: { key?: Buffer | string | null; partition?: number | null };
}

/** Keys remembered per producer before the memo starts over: a raw topic has one key per cluster and user. */
export const MEMO_KEYS = 10_000;

/**
 * A partitioner that computes each (topic, partition count, string key) once. kafkajs' default partitioner is
 * a pure function of the key and the partition count (murmur2 on Long objects), and it cost ~11% of
 * `kaudit import`'s event loop (issue 15 §3) although a raw topic's keys (cluster/user) repeat all the time.
 * Anything else (an explicit partition, no key, a Buffer key) goes to `partition` every time, so the answer
 * is always the one `partition` gives. Bounded: past `maxKeys` keys the memo starts over.
 */
export function memoisedPartitioner<A extends PartitionerInput>(partition: (args: A) => number, maxKeys = MEMO_KEYS): (args: A) => number {
  const known = new Map<string, number>();
  return (args) => {
    const { key, partition: explicit } = args.message;
    if (typeof key !== 'string' || (explicit !== undefined && explicit !== null)) return partition(args);
    // The count is part of the memo: a topic that grew partitions maps keys anew, as kafkajs would.
    const id = `${args.partitionMetadata.length}\0${args.topic}\0${key}`;
    let chosen = known.get(id);
    if (chosen === undefined) {
      chosen = partition(args);
      if (known.size >= maxKeys) known.clear();
      known.set(id, chosen);
    }
    return chosen;
  };
}
