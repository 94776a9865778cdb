-- The running instances that dispatch their transactions after commit. Each writes its
-- transactions' scopes with its own id as their first 8 bytes, and refreshes its row every
-- third of events.relay.lease while it runs (and deletes it when it stops). A relay takes
-- over the undispatched rows of a scope only when the instance that wrote it has no fresh
-- row (it died or stopped) or gave the scope up: the rows of a running instance's long
-- transaction or slow subscriber are never delivered twice.
CREATE TABLE IF NOT EXISTS {{instance_table}} (
	id           bytea       PRIMARY KEY,
	started_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
	last_seen_at timestamptz NOT NULL DEFAULT clock_timestamp()
)
