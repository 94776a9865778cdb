-- Finds undispatched rows in id order (the relay), whatever the table holds otherwise.
CREATE INDEX IF NOT EXISTS ${audit_name}_pending_idx ON ${audit_table} (id)
	WHERE event_processed_at IS NULL
