-- The Kafka timestamp of the record each row came from (issue 12 §2, "topic recreated or offsets reset").
--
-- (_topic, _partition, _offset) alone does not name a record: when a topic is deleted and recreated, or Kafka's
-- data is lost, offsets start again at 0 while the table still holds rows at those offsets. The sink skips a
-- record only when a row with the same position AND the same timestamp is stored, so a record of a new topic
-- incarnation at a reused offset is stored instead of being taken for one already there.
-- Rows written before this migration keep 1970-01-01 (unknown): the sink treats them as matching any record at
-- their offset, which is what it did before.
-- by_offset_ts serves that lookup (the by_offset projection of 0001 has no timestamp); it is built for the
-- existing parts by the MATERIALIZE mutation in the background.
ALTER TABLE {{database}}.audit_events
    ADD COLUMN IF NOT EXISTS _timestamp DateTime64(3, 'UTC') DEFAULT 0 CODEC(Delta(8), ZSTD(1)) AFTER _offset;

ALTER TABLE {{database}}.audit_events
    ADD PROJECTION IF NOT EXISTS by_offset_ts (SELECT _topic, _partition, _offset, _timestamp ORDER BY _topic, _partition, _offset);

ALTER TABLE {{database}}.audit_events MATERIALIZE PROJECTION by_offset_ts;

ALTER TABLE {{database}}.alerts
    ADD COLUMN IF NOT EXISTS _timestamp DateTime64(3, 'UTC') DEFAULT 0 CODEC(Delta(8), ZSTD(1)) AFTER _offset;
