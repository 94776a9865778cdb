-- Finds, per subscriber, the entries that hold back a row's later events for a subscriber
-- that takes each row's events in order: those waiting for an attempt and those
-- dead-lettered, by row and then in audit order.
CREATE INDEX IF NOT EXISTS {{audit_name}}_delivery_row_idx ON {{delivery_table}} (subscriber, row_key, audit_id)
	WHERE status IN ('pending', 'dead')
