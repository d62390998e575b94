-- Leading-edge alerts (issue 15 §1): a rule with a dedup window notifies its first occurrence at once and, at the
-- window's close, one follow-up with the SAME alert_id (so PagerDuty/Opsgenie update that incident) and the
-- window's total count. Both are notifications someone received, so the table keeps both: follow_up joins the
-- ReplacingMergeTree key, and a merge (or FINAL) still collapses a replayed copy of either, never one into the
-- other. Rows stored before this migration are first notifications (false).
-- ClickHouse extends a sorting key only with a column added in the same ALTER, hence one statement.
ALTER TABLE {{database}}.alerts
    ADD COLUMN IF NOT EXISTS follow_up Bool AFTER created_at,
    MODIFY ORDER BY (cluster, rule_id, alert_id, follow_up);
