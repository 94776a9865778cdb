-- Finds one committed transaction's undispatched rows in id order, page by page (the
-- after-commit dispatch).
CREATE INDEX IF NOT EXISTS ${audit_name}_scope_idx ON ${audit_table} (scope_id, id)
	WHERE event_processed_at IS NULL AND scope_id IS NOT NULL
