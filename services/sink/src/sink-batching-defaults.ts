import type { GatherLimits } from '@kaudit/kafka';

/**
 * How the sink gathers fetches into inserts. Defaults: a block is cut at 50,000 rows, 16 MiB of record values, 100 ms
 * after its first fetch arrived (at once after its burst of fetches from 5,000 rows on), or as soon as `maxHeld`
 * fetches — the consumer's partitionsConsumedConcurrently, 6 like the enriched topic's partitions — wait in it. The
 * time bound of a batch is the consumer's fetch wait (the broker holds a fetch until SINK_MAX_BYTES_PER_PARTITION are
 * there or half SINK_BATCH_MAX_WAIT_MS passed, see fetchWaitMs); the linger is spent out of the max wait's half left
 * for handling.
 */
export const SINK_BATCHING_DEFAULTS: Readonly<GatherLimits> = { maxRows: 50_000, maxBytes: 16 * 1024 * 1024, lingerMs: 100, lingerBelowRows: 5_000, maxHeld: 6 };
