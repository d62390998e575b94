-- Per-minute request counts by cluster × actor × verb × status code × resource × client, for the trend questions
-- ("why did the apiserver load jump — which user, verb and code, over time") without scanning audit_events.
-- Only the final stage of each request is counted (RequestReceived/ResponseStarted would count it twice).
-- A deduplicated insert into audit_events is deduplicated here too (deduplicate_blocks_in_dependent_materialized_views,
-- on by default, needs this table's own deduplication window), so the rollup stays exactly-once as well.
CREATE TABLE IF NOT EXISTS {{database}}.audit_rollup_1m
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
    requests            SimpleAggregateFunction(sum, UInt64),
    latency_ms_sum      SimpleAggregateFunction(sum, Float64),
    latency_ms_max      SimpleAggregateFunction(max, Float64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toDate(minute)
ORDER BY (cluster, minute, actor_id, verb, response_code, resource, client_name, user_agent)
TTL minute + toIntervalDay({{retention_days}})
SETTINGS ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.audit_rollup_1m_mv TO {{database}}.audit_rollup_1m AS
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
    count() AS requests,
    sum(latency_ms) AS latency_ms_sum,
    max(latency_ms) AS latency_ms_max
FROM {{database}}.audit_events
WHERE stage NOT IN ('RequestReceived', 'ResponseStarted')
GROUP BY minute, cluster, actor_id, verb, response_code, resource, client_name, user_agent;
