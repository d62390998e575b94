-- The refused requests (response code 403) of audit_events, for `kaudit ask forbidden` (issue 16, "Queries at
-- scale": trend questions under 1 s over 50M rows).
--
-- audit_events is sorted by object (0001), and a 403 is about 1 request in 100, so every granule of a day holds some:
-- `ask forbidden --since 24h` over 50M rows a week read 7.9M rows and decompressed the audit ID, URI and person columns
-- of nearly all of them (2.2–2.5 CPU-s, over 1 s on this 2-core machine). Here the same rows and the columns the
-- question (and an investigation of refusals) needs, sorted by time: a day is a few thousand granules fewer. No
-- index or projection of audit_events can do that: a projection holds every row, not the refused ones, and would
-- double what each insert writes for the sake of 1% of them.
-- Rows are copied as they are, so the question answers the same as over audit_events: it keeps collapsing stages
-- and copies of one request with LIMIT 1 BY cluster, audit_id, which also makes any copy stored twice here
-- (through the backfill below, or a retry the deduplication window did not catch) harmless. object_namespace is kept
-- so a team's view can filter it like audit_events (libs/clickhouse/src/team-users.ts).
CREATE TABLE IF NOT EXISTS {{database}}.audit_forbidden
(
    cluster                    LowCardinality(String),
    audit_id                   String CODEC(ZSTD(1)),
    stage                      LowCardinality(String),
    event_time                 DateTime64(6, 'UTC') CODEC(Delta(8), ZSTD(1)),
    verb                       LowCardinality(String),
    request_uri                String CODEC(ZSTD(3)),
    object_api_group           LowCardinality(String),
    object_resource            LowCardinality(String),
    object_subresource         LowCardinality(String),
    object_namespace           LowCardinality(String),
    object_name                String CODEC(ZSTD(1)),
    response_code              UInt16,
    authz_reason               String CODEC(ZSTD(3)),
    user_name                  LowCardinality(String),
    impersonated               Bool,
    impersonated_user_name     LowCardinality(String),
    source_ips                 Array(String) CODEC(ZSTD(1)),
    user_agent                 LowCardinality(String),
    actor_id                   LowCardinality(String),
    actor_display_name         LowCardinality(String),
    actor_email                LowCardinality(String),
    actor_team                 LowCardinality(String),
    owner_team                 LowCardinality(String)
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(event_time)
ORDER BY (event_time, cluster, audit_id, stage)
TTL toDateTime(event_time) + toIntervalDay({{retention_days}})
SETTINGS ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.audit_forbidden_mv TO {{database}}.audit_forbidden AS
SELECT cluster, audit_id, stage, event_time, verb, request_uri, object_api_group, object_resource, object_subresource,
    object_namespace, object_name, response_code, authz_reason, user_name, impersonated, impersonated_user_name,
    source_ips, user_agent, actor_id, actor_display_name, actor_email, actor_team, owner_team
FROM {{database}}.audit_events
WHERE response_code = 403;

-- Backfill what was stored before the view existed. A row inserted meanwhile is copied by both, which the question
-- collapses (above) and a merge removes.
INSERT INTO {{database}}.audit_forbidden
SELECT cluster, audit_id, stage, event_time, verb, request_uri, object_api_group, object_resource, object_subresource,
    object_namespace, object_name, response_code, authz_reason, user_name, impersonated, impersonated_user_name,
    source_ips, user_agent, actor_id, actor_display_name, actor_email, actor_team, owner_team
FROM {{database}}.audit_events
WHERE response_code = 403;
