-- The undispatched rows, by transaction scope then id: one committed transaction's rows,
-- page by page (the after-commit dispatch); rows written outside the application
-- (scope_id IS NULL, in id order) and abandoned ones (the relay). Rows leave it when they
-- are marked processed, so it stays as small as the backlog.
CREATE INDEX IF NOT EXISTS {{audit_name}}_pending_idx ON {{audit_table}} (scope_id, id)
	WHERE event_processed_at IS NULL
