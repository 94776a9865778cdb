-- The subscribers of every instance that shares this database, with the events each
-- takes. A row committed by an instance that lacks some of its event's subscribers is
-- handed to those through the delivery ledger, so the instances that have them deliver it.
-- last_seen_at is refreshed by every running instance that has the subscriber; one not
-- seen for events.relay.subscriber-expiry is retired.
CREATE TABLE IF NOT EXISTS {{subscriber_table}} (
	name         text        PRIMARY KEY,
	events       text[]      NOT NULL,
	last_seen_at timestamptz NOT NULL DEFAULT clock_timestamp()
)
