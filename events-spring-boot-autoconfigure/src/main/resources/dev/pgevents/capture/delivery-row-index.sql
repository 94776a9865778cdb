-- Finds the ledger entries that hold back a row's later events for the subscribers that take
-- each row's events in order: those waiting for an attempt and those dead-lettered, by row,
-- subscriber and audit order.
CREATE INDEX IF NOT EXISTS {{audit_name}}_delivery_row_idx ON {{delivery_table}} (row_key, subscriber, audit_id)
	WHERE status IN ('pending', 'dead')
