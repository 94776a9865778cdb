-- Finds the pending deliveries that are due, per subscriber (the relay's retries).
CREATE INDEX IF NOT EXISTS {{audit_name}}_delivery_due_idx ON {{delivery_table}} (subscriber, next_attempt_at)
	WHERE status = 'pending'
