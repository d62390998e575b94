-- Alerts from kaudit.alerts.v1 (AlertRecord JSON), stored by the sink. alert_id is deterministic, so a replayed
-- alert collapses into one row (ReplacingMergeTree; read with FINAL or argMax); the sink's token-based
-- exactly-once insert keeps even unmerged parts free of duplicates.
CREATE TABLE IF NOT EXISTS {{database}}.alerts
(
    alert_id            String,
    rule_id             LowCardinality(String),
    rule_name           LowCardinality(String),
    severity            LowCardinality(String),
    tags                Array(LowCardinality(String)),
    cluster             LowCardinality(String),
    summary             String CODEC(ZSTD(3)),
    count               UInt32,
    first_seen          DateTime64(6, 'UTC'),
    last_seen           DateTime64(6, 'UTC'),
    actor_id            LowCardinality(String),
    actor_display_name  LowCardinality(String),
    actor_team          LowCardinality(String),
    object_resource     LowCardinality(String),
    object_namespace    LowCardinality(String),
    object_name         String,
    owner_team          LowCardinality(String),
    audit_ids           Array(String) CODEC(ZSTD(3)),
    created_at          DateTime64(6, 'UTC'),
    _topic              LowCardinality(String),
    _partition          UInt16,
    _offset             UInt64,
    _inserted_at        DateTime('UTC') DEFAULT now(),

    INDEX idx_offset _offset TYPE minmax GRANULARITY 1
)
ENGINE = ReplacingMergeTree(created_at)
PARTITION BY toYYYYMM(first_seen)
ORDER BY (cluster, rule_id, alert_id)
TTL toDateTime(first_seen) + toIntervalDay({{retention_days}})
SETTINGS non_replicated_deduplication_window = 10000;
