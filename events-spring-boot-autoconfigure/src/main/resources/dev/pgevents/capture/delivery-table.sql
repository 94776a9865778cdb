-- The delivery ledger: one row per (audit row, subscriber) that was not delivered with the
-- rest of its audit row: a failed delivery waiting for its retry, one dead-lettered after
-- the last attempt, or one handed to the instances that have the subscriber. A row is
-- claimed under a lease; lease_token fences out a claimer whose lease expired. row_key
-- names the audit row's row (its table and primary-key values) for the subscribers that take
-- each row's events in order: their later events of a row wait behind its pending and
-- dead entries.
CREATE TABLE IF NOT EXISTS {{delivery_table}} (
	audit_id        bigint      NOT NULL,
	subscriber      text        NOT NULL,
	status          text        NOT NULL DEFAULT 'pending',
	attempts        integer     NOT NULL DEFAULT 0,
	next_attempt_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	lease_until     timestamptz,
	lease_token     integer     NOT NULL DEFAULT 0,
	last_error      text,
	replays         integer     NOT NULL DEFAULT 0,
	created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
	updated_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
	row_key         text,
	PRIMARY KEY (audit_id, subscriber)
)
