-- One row per (cluster, auditID, stage) audit record, as decoded from kaudit.audit.enriched.v1 by the sink.
--
-- ORDER BY starts with the object (resource, name, namespace): "what happened to object X" — who deleted
-- Deployment nginx, who cordoned node N — reads a handful of granules. The other access path, "what did user U
-- do", uses bloom-filter skip indexes on actor_id / user_name; trends use the per-minute rollup (0002).
-- Absent values (null in the AuditRecord) are stored as '' / 0 (no Nullable: it costs a null map per column
-- and cannot be in the sorting key); `impersonated` keeps the one null that carries meaning.
-- _topic/_partition/_offset record where each row came from: the sink's exactly-once recovery reads them
-- through the by_offset projection (stored atomically with each part), see services/sink/src/offset-ledger.ts.
CREATE TABLE IF NOT EXISTS {{database}}.audit_events
(
    cluster                    LowCardinality(String),
    provider                   LowCardinality(String),
    audit_id                   String CODEC(ZSTD(1)),
    stage                      LowCardinality(String),
    level                      LowCardinality(String),
    event_time                 DateTime64(6, 'UTC') CODEC(Delta(8), ZSTD(1)),
    stage_time                 DateTime64(6, 'UTC') CODEC(Delta(8), ZSTD(1)),
    ingested_at                DateTime64(6, 'UTC') CODEC(Delta(8), ZSTD(1)),
    latency_ms                 Float64 CODEC(Gorilla, ZSTD(1)),
    verb                       LowCardinality(String),
    request_uri                String CODEC(ZSTD(3)),
    object_api_group           LowCardinality(String),
    object_api_version         LowCardinality(String),
    object_resource            LowCardinality(String),
    object_subresource         LowCardinality(String),
    object_namespace           LowCardinality(String),
    object_name                String CODEC(ZSTD(1)),
    object_uid                 String CODEC(ZSTD(1)),
    response_code              UInt16,
    response_status            LowCardinality(String),
    response_reason            LowCardinality(String),
    response_message           String CODEC(ZSTD(3)),
    authz_decision             LowCardinality(String),
    authz_reason               String CODEC(ZSTD(3)),
    annotations                Map(LowCardinality(String), String) CODEC(ZSTD(3)),
    user_name                  LowCardinality(String),
    user_uid                   String CODEC(ZSTD(1)),
    user_groups                Array(LowCardinality(String)),
    user_extra                 Map(LowCardinality(String), String) CODEC(ZSTD(3)),
    impersonated               Bool,
    impersonated_user_name     LowCardinality(String),
    impersonated_user_uid      String CODEC(ZSTD(1)),
    impersonated_user_groups   Array(LowCardinality(String)),
    impersonated_user_extra    Map(LowCardinality(String), String) CODEC(ZSTD(3)),
    source_ips                 Array(String) CODEC(ZSTD(1)),
    user_agent                 LowCardinality(String),
    client_name                LowCardinality(String),
    client_version             LowCardinality(String),
    actor_id                   LowCardinality(String),
    actor_kind                 LowCardinality(String),
    actor_display_name         LowCardinality(String),
    actor_email                LowCardinality(String),
    actor_team                 LowCardinality(String),
    actor_account              LowCardinality(String),
    actor_resolved_by          LowCardinality(String),
    owner_team                 LowCardinality(String),
    operation                  LowCardinality(String),
    sec_privileged             Bool,
    sec_host_network           Bool,
    sec_host_pid               Bool,
    sec_host_ipc               Bool,
    sec_host_paths             Array(String),
    sec_added_capabilities     Array(LowCardinality(String)),
    sec_images                 Array(String) CODEC(ZSTD(3)),
    sec_cluster_admin_binding  Bool,
    sec_wildcard_role          Bool,
    sec_pod_exec_role          Bool,
    sec_credential_like_keys   Array(String),
    request_object             String CODEC(ZSTD(3)),
    response_object            String CODEC(ZSTD(3)),
    truncated                  Bool,
    _topic                     LowCardinality(String),
    _partition                 UInt16,
    _offset                    UInt64 CODEC(Delta(8), ZSTD(1)),
    _inserted_at               DateTime('UTC') DEFAULT now() CODEC(Delta(4), ZSTD(1)),

    INDEX idx_actor_id actor_id TYPE bloom_filter(0.01) GRANULARITY 2,
    INDEX idx_user_name user_name TYPE bloom_filter(0.01) GRANULARITY 2,
    INDEX idx_audit_id audit_id TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX idx_event_time event_time TYPE minmax GRANULARITY 1,
    INDEX idx_response_code response_code TYPE set(64) GRANULARITY 2,
    INDEX idx_operation operation TYPE set(32) GRANULARITY 2,

    PROJECTION by_offset (SELECT _topic, _partition, _offset ORDER BY _topic, _partition, _offset)
)
-- ReplacingMergeTree on a key ending in (audit_id, stage): the same event stored twice — an apiserver
-- retry of a batch Kafka had already acknowledged, or enrich re-producing after a crash before its commit —
-- collapses to one row. Queries that must be exact before merges use FINAL or LIMIT 1 BY cluster, audit_id.
-- Version _offset keeps the latest copy, so the sink's max-stored-offset ledger never moves backwards.
ENGINE = ReplacingMergeTree(_offset)
PARTITION BY toDate(event_time)
ORDER BY (object_resource, object_name, object_namespace, cluster, event_time, audit_id, stage)
TTL toDateTime(event_time) + toIntervalDay({{retention_days}})
SETTINGS
    -- The sink inserts each Kafka batch with insert_deduplication_token = topic:partition:first-last; the
    -- window must cover every block that can be re-sent after a crash or a timed-out insert (the last few per
    -- partition), with a wide margin.
    non_replicated_deduplication_window = 10000,
    -- Day partitions expire whole: drop them instead of rewriting parts row by row.
    ttl_only_drop_parts = 1,
    -- A merge that drops duplicate rows rebuilds the by_offset projection instead of refusing the table.
    deduplicate_merge_projection_mode = 'rebuild';
