-- The one-line human summary enrich builds for each event (issue 17): "Deng Wei deleted Deployment web/nginx in
-- prod-eu-1". Shown by `kaudit tail`, `ask history` and `ask actor`, and usable by dashboards' tables.
-- Rows stored before this migration (and records written with Avro schema v1) have '' — the CLI then composes
-- its line from the other columns.
ALTER TABLE {{database}}.audit_events
    ADD COLUMN IF NOT EXISTS summary String DEFAULT '' CODEC(ZSTD(3)) AFTER truncated;
