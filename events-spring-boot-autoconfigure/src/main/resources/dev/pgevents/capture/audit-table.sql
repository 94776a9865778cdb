-- The audit table: one row per changed row, written by the capture trigger.
-- {{audit_table}} is the schema-qualified, quoted table name (default: public.keel_audit).
CREATE TABLE IF NOT EXISTS {{audit_table}} (
	id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	table_name         text        NOT NULL,
	op                 text        NOT NULL,
	data               jsonb       NOT NULL,
	previous_data      jsonb,
	identity_id        text,
	trace_id           text,
	span_id            text,
	scope_id           uuid,
	caused_by          bigint,
	chain_depth        integer,
	created_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
	event_processed_at timestamptz
)
