-- The undispatched rows of one table by primary key, for a table whose events a subscriber
-- takes in order: a row's event waits while an earlier one of the same row is undispatched.
-- Only that table's rows are in it, and only while they are undispatched. The installer
-- builds it CONCURRENTLY, outside its transaction, so that writers never wait for the
-- build; a migration runs it as it stands.
CREATE INDEX {{concurrently}}IF NOT EXISTS {{order_index}} ON {{audit_table}} ({{key}}, id)
	WHERE event_processed_at IS NULL AND table_name = {{table_literal}}
