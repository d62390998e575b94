-- Per-minute request counts per `kaudit ask load` dimension (issue 16, "Queries at scale": trend queries over 7 days
-- under 1 s over 50M rows).
--
-- audit_rollup_1m_v2 (0005) keeps a uniqExact state of every request, keyed by minute × eight columns; reading a
-- week means deserializing and merging one 128-bit hash per request (27M rows: 5.9 s by user, 2.2 s by verb), and
-- the eight-column key makes it nearly as many rows as requests. Here each request adds one row per dimension the
-- questions group by (user = actor_id, verb, code, useragent), keyed (dimension, minute, cluster, key), and the value
-- is a plain count: a week by user is a few million small rows, by verb a few hundred thousand.
--
-- What a count cannot do is recognise a request it has already counted. Copies of one request inside one insert are
-- counted once (LIMIT 1 BY below), and the sink's retried inserts are dropped by the insert deduplication token as
-- for every table behind audit_events. A request delivered again in a later insert (an apiserver retry after a lost
-- 200, enrich re-producing after a crash, the same file imported twice) is counted again here, while
-- audit_rollup_1m_v2 counts it once. So `kaudit ask load` reads audit_rollup_1m_v2 (exact distinct requests) for
-- short ranges and this table for long ones, and says so (cli/src/commands/ask-queries.ts, docs/operating.md).
-- Only the final stage of a request is counted, as in 0002/0005. The person columns are kept for dimension 'user'.
CREATE TABLE IF NOT EXISTS {{database}}.audit_load_1m
(
    dimension           LowCardinality(String),
    minute              DateTime('UTC') CODEC(Delta(4), ZSTD(1)),
    cluster             LowCardinality(String),
    key                 LowCardinality(String),
    actor_display_name  SimpleAggregateFunction(anyLast, LowCardinality(String)),
    actor_email         SimpleAggregateFunction(anyLast, LowCardinality(String)),
    actor_team          SimpleAggregateFunction(anyLast, LowCardinality(String)),
    requests            SimpleAggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toDate(minute)
ORDER BY (dimension, minute, cluster, key)
TTL minute + toIntervalDay({{retention_days}})
SETTINGS ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.audit_load_1m_mv TO {{database}}.audit_load_1m AS
SELECT
    d.1 AS dimension,
    toStartOfMinute(event_time) AS minute,
    cluster,
    d.2 AS key,
    anyLast(if(d.1 = 'user', actor_display_name, '')) AS actor_display_name,
    anyLast(if(d.1 = 'user', actor_email, '')) AS actor_email,
    anyLast(if(d.1 = 'user', actor_team, '')) AS actor_team,
    count() AS requests
FROM
(
    SELECT event_time, cluster, actor_id, verb, response_code, user_agent, actor_display_name, actor_email, actor_team
    FROM {{database}}.audit_events
    WHERE stage NOT IN ('RequestReceived', 'ResponseStarted')
    LIMIT 1 BY cluster, audit_id
)
ARRAY JOIN [('user', actor_id), ('verb', verb), ('code', toString(response_code)), ('useragent', user_agent)] AS d
GROUP BY dimension, minute, cluster, key;

-- Backfill what was stored before the view existed, counting distinct requests (a request stored twice so far counts
-- once): every row inserted up to the second the view was created in (_inserted_at has whole seconds). Rows the view
-- also counted — inserted after it, within that second — count twice; none are missed. Apply this migration with the
-- sink stopped (as `kaudit setup` runs before the services start) and the history is exact.
INSERT INTO {{database}}.audit_load_1m
SELECT
    d.1 AS dimension,
    minute,
    cluster,
    d.2 AS key,
    anyLast(if(d.1 = 'user', who, '')) AS actor_display_name,
    anyLast(if(d.1 = 'user', email, '')) AS actor_email,
    anyLast(if(d.1 = 'user', team, '')) AS actor_team,
    sum(n) AS requests
FROM
(
    SELECT toStartOfMinute(event_time) AS minute, cluster, actor_id, verb, response_code, user_agent,
        anyLast(actor_display_name) AS who, anyLast(actor_email) AS email, anyLast(actor_team) AS team,
        uniqExact(cluster, audit_id) AS n
    FROM {{database}}.audit_events
    WHERE stage NOT IN ('RequestReceived', 'ResponseStarted')
      AND _inserted_at <= (SELECT max(metadata_modification_time) FROM system.tables WHERE database = '{{database}}' AND name = 'audit_load_1m_mv')
    GROUP BY minute, cluster, actor_id, verb, response_code, user_agent
)
ARRAY JOIN [('user', actor_id), ('verb', verb), ('code', toString(response_code)), ('useragent', user_agent)] AS d
GROUP BY dimension, minute, cluster, key;
