-- The delivery ledger: one row per (audit row, subscriber) whose delivery failed,
-- kept until the delivery succeeds or is dead-lettered.
CREATE TABLE IF NOT EXISTS ${delivery_table} (
	audit_id        bigint      NOT NULL,
	subscriber      text        NOT NULL,
	status          text        NOT NULL DEFAULT 'pending',
	attempts        integer     NOT NULL,
	next_attempt_at timestamptz,
	last_error      text,
	updated_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
	PRIMARY KEY (audit_id, subscriber)
)
