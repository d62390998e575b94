-- Per-minute request counts that stay exact when an event is stored twice (issue 12 §2, "Rollups").
--
-- audit_rollup_1m (0002) sums rows: the same event delivered twice (an apiserver retry after a lost 200, enrich
-- re-producing after a crash) is two rows in audit_events, which ReplacingMergeTree collapses to one, but the
-- rollup adds both, so `kaudit ask load` and the trend panels over-count. Here `requests` is the set of distinct
-- requests (cluster, audit_id) per minute × key, kept as a uniqExact state: a duplicate adds nothing, whether it
-- arrives in the same insert, later, or through the backfill below. Read it with uniqExactMerge(requests).
-- Latency is kept as an average state and a maximum; a duplicate has the same latency, so neither moves by more
-- than the duplicate's weight in the average (the maximum not at all).
-- Cost: a uniqExact state holds a 128-bit hash per distinct request, so this table is about 16 B per request;
-- merging states over long ranges needs memory in proportion (ask load keeps to the range asked).
-- audit_rollup_1m and its view stay (older CLIs and dashboards read them during an upgrade); nothing new reads them.
CREATE TABLE IF NOT EXISTS {{database}}.audit_rollup_1m_v2
(
    minute              DateTime('UTC') CODEC(Delta(4), ZSTD(1)),
    cluster             LowCardinality(String),
    actor_id            LowCardinality(String),
    verb                LowCardinality(String),
    response_code       UInt16,
    resource            LowCardinality(String),
    client_name         LowCardinality(String),
    user_agent          LowCardinality(String),
    actor_display_name  SimpleAggregateFunction(anyLast, LowCardinality(String)),
    actor_email         SimpleAggregateFunction(anyLast, LowCardinality(String)),
    actor_team          SimpleAggregateFunction(anyLast, LowCardinality(String)),
    requests            AggregateFunction(uniqExact, String, String),
    latency_ms_avg      AggregateFunction(avg, Float64),
    latency_ms_max      SimpleAggregateFunction(max, Float64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toDate(minute)
ORDER BY (cluster, minute, actor_id, verb, response_code, resource, client_name, user_agent)
TTL minute + toIntervalDay({{retention_days}})
SETTINGS ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.audit_rollup_1m_v2_mv TO {{database}}.audit_rollup_1m_v2 AS
SELECT
    toStartOfMinute(event_time) AS minute,
    cluster,
    actor_id,
    verb,
    response_code,
    object_resource AS resource,
    client_name,
    user_agent,
    anyLast(actor_display_name) AS actor_display_name,
    anyLast(actor_email) AS actor_email,
    anyLast(actor_team) AS actor_team,
    uniqExactState(cluster, audit_id) AS requests,
    avgState(latency_ms) AS latency_ms_avg,
    max(latency_ms) AS latency_ms_max
FROM {{database}}.audit_events
WHERE stage NOT IN ('RequestReceived', 'ResponseStarted')
GROUP BY minute, cluster, actor_id, verb, response_code, resource, client_name, user_agent;

-- Backfill what was stored before the view existed. Rows the view also saw (inserted meanwhile) are the same
-- requests again, which the uniqExact state does not count twice.
INSERT INTO {{database}}.audit_rollup_1m_v2
SELECT
    toStartOfMinute(event_time) AS minute,
    cluster,
    actor_id,
    verb,
    response_code,
    object_resource AS resource,
    client_name,
    user_agent,
    anyLast(actor_display_name) AS actor_display_name,
    anyLast(actor_email) AS actor_email,
    anyLast(actor_team) AS actor_team,
    uniqExactState(cluster, audit_id) AS requests,
    avgState(latency_ms) AS latency_ms_avg,
    max(latency_ms) AS latency_ms_max
FROM {{database}}.audit_events
WHERE stage NOT IN ('RequestReceived', 'ResponseStarted')
GROUP BY minute, cluster, actor_id, verb, response_code, resource, client_name, user_agent;
