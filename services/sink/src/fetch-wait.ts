/**
 * How long the broker may hold one of the sink's fetches (kafkajs maxWaitTime), given SINK_BATCH_MAX_WAIT_MS — the
 * bound on how long a block's OLDEST row waits before it is stored (issue 16: batching "bounded by the freshness
 * goal").
 *
 * The broker's wait starts when the fetch is asked for, not when its oldest record arrived. The consumer has one
 * fetch in hand at a time and asks for the next only once the previous block is inserted and committed (nothing is
 * committed before it is stored), so a record that arrives meanwhile is in no fetch yet: it waits for the previous
 * block's handling, then for this whole broker wait, then for its own block's handling. Half the max wait goes to
 * the broker and half is left for those two handlings: the bound holds while the sink handles a block (gather,
 * stored-offsets check, insert, commit) in under a quarter of the max wait. With the broker given the whole max
 * wait, such a record waited longer than the max wait every time (measured at 100 events/s, max wait 1 s: the
 * oldest rows 1.6–2.0 s old when stored). At 100 events/s this is about one insert per 0.5 s plus a handling.
 */
export function fetchWaitMs(maxWaitMs: number): number {
  return Math.floor(maxWaitMs / 2);
}
