-- The capture trigger function, shared by the three statement-level triggers of every
-- audited table. Its arguments are the table's primary-key columns, used to pair each
-- NEW row of an UPDATE with its OLD row. The transaction context (scope, identity, trace)
-- comes from transaction-local settings that the application sets when a transaction
-- begins; a transaction without a trace gets one derived from its transaction id. Rows
-- written outside a dispatching application (psql, other services, applications with no
-- subscriber) have a null scope, and a notification wakes the relays when any instance
-- has a subscriber for them: no local dispatcher handles them. Transactions that will
-- dispatch their own rows send none, so they pay nothing for it.
-- search_path is pinned to pg_catalog (pg_temp last, which is never searched for functions
-- or operators) and the audit table is schema-qualified, so no object in another schema
-- can take the place of one used here.
-- The planner cannot know that an UPDATE's OLD and NEW rows pair one to one by key: it
-- expects the join to return rows^2 / 200 of them. That estimate made it sort both sides
-- on jsonb for a merge join and compile the statement with JIT (200 ms, for updates of
-- more than a few thousand rows); hence merge joins and JIT are off here, and the rows
-- are paired with a hash join, each side's jsonb computed once (OFFSET 0 keeps it from
-- being computed again in the join and filter). Composite keys pair on an array of the
-- key values, which hashes too: comparing them column by column made the join a nested
-- loop over every pair of rows.
CREATE OR REPLACE FUNCTION ${capture_function}() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET enable_mergejoin = off
SET jit = off
AS $capture$
DECLARE
	v_scope    uuid := nullif(pg_catalog.current_setting('pgevents.scope', true), '')::uuid;
	v_identity text := nullif(pg_catalog.current_setting('pgevents.identity', true), '');
	v_trace    text := nullif(pg_catalog.current_setting('pgevents.trace', true), '');
	v_span     text := nullif(pg_catalog.current_setting('pgevents.span', true), '');
	v_keys     text[];
	v_op       text;
BEGIN
	IF v_trace IS NULL THEN
		-- written under no trace: one of the transaction's own, the same for all its rows
		v_trace := pg_catalog.md5(pg_catalog.pg_current_xact_id()::text || '/'
			|| pg_catalog.pg_postmaster_start_time()::text);
		v_span := pg_catalog.substr(pg_catalog.md5(v_trace), 1, 16);
	END IF;
	IF TG_OP = 'INSERT' THEN
		INSERT INTO ${audit_table} (table_name, op, data, identity_id, trace_id, span_id, scope_id)
		SELECT TG_TABLE_NAME, 'created', pg_catalog.to_jsonb(n), v_identity, v_trace, v_span, v_scope
		FROM new_rows n;
		v_op := 'created';
	ELSIF TG_OP = 'DELETE' THEN
		INSERT INTO ${audit_table} (table_name, op, data, identity_id, trace_id, span_id, scope_id)
		SELECT TG_TABLE_NAME, 'deleted', pg_catalog.to_jsonb(o), v_identity, v_trace, v_span, v_scope
		FROM old_rows o;
		v_op := 'deleted';
	ELSIF TG_NARGS = 1 THEN
		v_op := 'updated';
		v_keys := ARRAY[TG_ARGV[0]];
		INSERT INTO ${audit_table} (table_name, op, data, previous_data, identity_id, trace_id, span_id, scope_id)
		SELECT TG_TABLE_NAME, 'updated', n.d, o.d, v_identity, v_trace, v_span, v_scope
		FROM (SELECT pg_catalog.to_jsonb(t) AS d FROM new_rows t OFFSET 0) n
		LEFT JOIN (SELECT pg_catalog.to_jsonb(t) AS d FROM old_rows t OFFSET 0) o
			ON (o.d -> v_keys[1]) = (n.d -> v_keys[1])
		WHERE o.d IS DISTINCT FROM n.d;
	ELSE
		v_op := 'updated';
		v_keys := ARRAY(SELECT pg_catalog.unnest(TG_ARGV));
		INSERT INTO ${audit_table} (table_name, op, data, previous_data, identity_id, trace_id, span_id, scope_id)
		SELECT TG_TABLE_NAME, 'updated', n.d, o.d, v_identity, v_trace, v_span, v_scope
		FROM (SELECT x.d, ARRAY(SELECT x.d -> k FROM pg_catalog.unnest(v_keys) AS k) AS key
			FROM (SELECT pg_catalog.to_jsonb(t) AS d FROM new_rows t OFFSET 0) x) n
		LEFT JOIN (SELECT x.d, ARRAY(SELECT x.d -> k FROM pg_catalog.unnest(v_keys) AS k) AS key
			FROM (SELECT pg_catalog.to_jsonb(t) AS d FROM old_rows t OFFSET 0) x) o
			ON o.key = n.key
		WHERE o.d IS DISTINCT FROM n.d;
	END IF;
	-- only when some instance has a subscriber for it: NOTIFY serializes committers
	IF v_scope IS NULL AND FOUND AND EXISTS (SELECT FROM ${subscriber_table} s
			WHERE (TG_TABLE_NAME || '.' || v_op) = ANY (s.events)) THEN
		PERFORM pg_catalog.pg_notify(${channel}, '');
	END IF;
	RETURN NULL;
END
$capture$
