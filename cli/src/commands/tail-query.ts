/**
 * The two queries of one `kaudit tail` poll (issue 17). The cursor is the sink's own record of where each row
 * came from — the next Kafka offset to show per (topic, partition) — not a time: event times arrive out of
 * order (late batches, imports) and `_inserted_at` has one-second resolution, so a time cursor either repeats
 * or misses rows. The sink stores each partition's records in offset order (one batch at a time, the next only
 * after the previous is durable; a new owner waits for the old owner's inserts, see services/sink), so once a
 * row at offset o is visible every stored row of that partition below o is visible too.
 *
 * Each poll first takes, per partition, the end of what is stored (`tailEndQuery`), then reads the matching rows
 * between the cursor and that end (`tailRowsQuery`) and moves the cursor to the end: a row stored between the two
 * queries lies beyond the end and is read by the next poll, so nothing is missed and nothing shown twice.
 * Rows younger than `settle` seconds are left for the next poll: an insert whose block spans two days writes two
 * parts that become visible one after the other.
 */
/** A query and its parameters (arrays travel as Array(...) parameters, never in the SQL text). */
export interface TailQuery {
  query: string;
  params: Record<string, string | number | readonly string[] | readonly number[]>;
}

export interface TailCursor {
  /** `${topic}:${partition}` → the next offset to show (decimal string: offsets are UInt64). */
  next: ReadonlyMap<string, string>;
}

export interface TailFilters {
  clusters: string[];
  namespaces: string[];
  resources: string[];
  verbs: string[];
  codes: number[];
  operations: string[];
  /** An actor_id, email, display name or username, case-insensitive; '' = anyone. */
  actor: string;
}

export interface TailWindow {
  database: string;
  /** Rows whose event time is older than this many seconds before now are not scanned (partition pruning). */
  lookbackSeconds: number;
  settleSeconds: number;
}

const POSITION = `concat(_topic, ':', toString(_partition))`;

function cursorParams(c: TailCursor): { keys: string[]; offsets: string[] } {
  return { keys: [...c.next.keys()], offsets: [...c.next.values()] };
}

/** The offset where each partition's stored rows end now (max + 1), for settled rows in the look-back window. */
export function tailEndQuery(w: TailWindow): TailQuery {
  return {
    query: `SELECT ${POSITION} AS position, toString(max(_offset) + 1) AS end
      FROM {db:Identifier}.audit_events
      WHERE event_time >= now64(6) - toIntervalSecond({lookback:UInt32})
        AND _inserted_at <= now() - toIntervalSecond({settle:UInt32})
      GROUP BY position`,
    params: { db: w.database, lookback: w.lookbackSeconds, settle: w.settleSeconds },
  };
}

/** The matching rows from the cursor up to `end` (exclusive), in storage order. */
export function tailRowsQuery(w: TailWindow, from: TailCursor, end: TailCursor, f: TailFilters): TailQuery {
  const a = cursorParams(from);
  const b = cursorParams(end);
  return {
    query: `SELECT event_time AS time, cluster, stage, object_namespace AS namespace, object_resource AS resource, object_subresource AS subresource,
        object_name AS name, operation, verb, response_code AS code, actor_display_name AS who, actor_email AS email, actor_id AS account,
        user_name AS username, concat(client_name, if(client_version = '', '', concat('/', client_version))) AS client, source_ips,
        summary, audit_id, _topic AS topic, _partition AS partition, toString(_offset) AS offset
      FROM {db:Identifier}.audit_events
      WHERE event_time >= now64(6) - toIntervalSecond({lookback:UInt32})
        AND _offset >= if(indexOf({fromKeys:Array(String)}, ${POSITION}) = 0, 0,
              toUInt64(arrayElement({fromOffsets:Array(String)}, indexOf({fromKeys:Array(String)}, ${POSITION}))))
        AND _offset < if(indexOf({endKeys:Array(String)}, ${POSITION}) = 0, 0,
              toUInt64(arrayElement({endOffsets:Array(String)}, indexOf({endKeys:Array(String)}, ${POSITION}))))
        AND stage != 'RequestReceived'
        AND (empty({clusters:Array(String)}) OR has({clusters:Array(String)}, cluster))
        AND (empty({namespaces:Array(String)}) OR has({namespaces:Array(String)}, object_namespace))
        AND (empty({resources:Array(String)}) OR has({resources:Array(String)}, object_resource))
        AND (empty({verbs:Array(String)}) OR has({verbs:Array(String)}, verb))
        AND (empty({codes:Array(UInt16)}) OR has({codes:Array(UInt16)}, response_code))
        AND (empty({operations:Array(String)}) OR has({operations:Array(String)}, operation))
        AND ({actor:String} = '' OR lower(actor_id) = lower({actor:String}) OR lower(actor_email) = lower({actor:String})
          OR lower(actor_display_name) = lower({actor:String}) OR lower(user_name) = lower({actor:String}))
      ORDER BY event_time, topic, partition, _offset`,
    params: {
      db: w.database,
      lookback: w.lookbackSeconds,
      fromKeys: a.keys,
      fromOffsets: a.offsets,
      endKeys: b.keys,
      endOffsets: b.offsets,
      clusters: f.clusters,
      namespaces: f.namespaces,
      resources: f.resources,
      verbs: f.verbs,
      codes: f.codes,
      operations: f.operations,
      actor: f.actor,
    },
  };
}

/** The cursor after a poll: each partition moves to its end, never backwards (the look-back window slides). */
export function advanceCursor(from: TailCursor, end: TailCursor): TailCursor {
  const next = new Map(from.next);
  for (const [key, offset] of end.next) {
    const prev = next.get(key);
    if (prev === undefined || BigInt(offset) > BigInt(prev)) next.set(key, offset);
  }
  return { next };
}
