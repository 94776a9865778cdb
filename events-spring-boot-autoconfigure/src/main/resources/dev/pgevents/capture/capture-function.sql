-- The capture trigger function, shared by the four statement-level triggers of every
-- audited table. Rows carry their table's name as events name it: bare for a table of the
-- application's schema (the current schema of the connection that rendered this file),
-- schema-qualified for any other, so that tables of one name in two schemas stay apart.
-- A partitioned table has row-level INSERT, UPDATE and DELETE triggers
-- instead, which PostgreSQL clones onto every partition, those created or attached later
-- included, so that writes made directly on a partition are captured too (a
-- statement-level trigger of the parent fires only for statements on the parent). Their
-- first argument is the parent's name as events name it, which their rows carry: they fire on the
-- partition. An UPDATE that moves a row to another partition is, as PostgreSQL runs it, a
-- DELETE and an INSERT. A TRUNCATE writes one row about the table, with empty data: it removes
-- rows without firing row or DELETE triggers, and would otherwise go unnoticed. Its
-- arguments are the table's primary-key columns, used to pair each NEW row of an UPDATE
-- with its OLD row, then, when columns are excluded from the audit
-- (events.audit.exclude-columns), an empty string (no column has an empty name) and the
-- excluded columns: they are removed from the rows before anything is written, and an
-- UPDATE that changed only them writes nothing. The arguments are read only when there is
-- more than one, and the rows go through the exclusion only when there is something to
-- exclude: a table with a one-column key and nothing excluded pays for neither. The
-- transaction context (scope, identity, trace)
-- comes from transaction-local settings that the application sets when a transaction
-- begins (a setting reads as NULL in a session that never set it, as '' after a
-- transaction that did); a transaction without a trace gets one derived from its
-- transaction id. Rows written outside a dispatching application (psql, other services,
-- applications with no subscriber) have a null scope, and a notification wakes the relays
-- when any instance has a subscriber for them: no local dispatcher handles them.
-- Transactions that will dispatch their own rows send none, so they pay nothing for it.
-- Those count their rows in the transaction-local pgevents.noticed, for the trigger that
-- sends them back at commit (notice-function.sql): before writing, the rows a statement
-- may write are counted (up to one past what is left of 100), and past 100 the setting
-- becomes -1, before the rows are written, so that they queue no trigger event.
--
-- The settings are believed only from a trusted writer: a session whose login role
-- (session_user, which SET ROLE does not change) is the function's owner (current_user,
-- in a SECURITY DEFINER function), belongs to it, or is one of events.audit.trusted-roles.
-- Any other role could SET them to anything: its rows record the role as their identity
-- ('db:<role>'), a trace of the transaction's own and no scope, so that the relays deliver
-- them at once and no writer can hold its rows back under an instance's scope.
--
-- Whoever writes an audited table runs this function, so it must work for every writer:
-- * SECURITY DEFINER: it writes the audit table with the privileges of its owner (the
--   role that installed it), so a writer needs privileges on its own table only. EXECUTE
--   is revoked from PUBLIC (capture-function-grant.sql): firing a trigger needs none, but
--   attaching the function to a table of one's own would otherwise forge audit rows.
-- * Every function, operator and type is named with its schema (pg_catalog), and the
--   audit and subscriber tables with theirs, so no object that the writing session's
--   search_path finds first can take the place of one used here. (Pinning search_path
--   with a SET clause instead would switch and restore the setting on every call.)
-- * User columns are never named: rows become jsonb through whole-row references
--   (alias.*), which a column of any name cannot shadow, and variables win over columns
--   of the same name (#variable_conflict), so any column name a table can have works.
--
-- The planner cannot know that an UPDATE's OLD and NEW rows pair one to one by key: it
-- expects the join to return rows^2 / 200 of them, which made it sort both sides on jsonb
-- for a merge join and compile the statement with JIT. Hence merge joins and JIT are off
-- while the UPDATE's rows are written (and restored after: an error rolls the settings
-- back with the transaction or savepoint), not with SET clauses on the function, which
-- would cost every INSERT and DELETE too. The rows are paired with a hash join, each
-- side's jsonb computed once (OFFSET 0 keeps it from being computed again in the join and
-- filter). Composite keys pair on an array of the key values, which hashes too: comparing
-- them column by column would make the join a nested loop over every pair of rows.
CREATE OR REPLACE FUNCTION {{capture_function}}() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
AS $capture$
#variable_conflict use_variable
DECLARE
	v_setting  pg_catalog.text := pg_catalog.current_setting('pgevents.scope', true);
	v_scope    pg_catalog.uuid;
	v_identity pg_catalog.text := pg_catalog.current_setting('pgevents.identity', true);
	v_trace    pg_catalog.text := pg_catalog.current_setting('pgevents.trace', true);
	v_span     pg_catalog.text := pg_catalog.current_setting('pgevents.span', true);
	v_cause    pg_catalog.text := pg_catalog.current_setting('pgevents.cause', true);
	v_caused_by pg_catalog.int8;
	v_depth    pg_catalog.int4;
	v_keys     pg_catalog.text[];
	v_key      pg_catalog.text;
	v_split    pg_catalog.int4;
	v_excluded pg_catalog.text[];
	v_planner  pg_catalog.text[];
	v_op       pg_catalog.text;
	v_written  pg_catalog.bool;
	v_noticed  pg_catalog.int4;
	v_count    pg_catalog.int8 := 1;
	-- named as events name it: with its schema unless it is in the application's
	v_table    pg_catalog.text := CASE WHEN TG_LEVEL OPERATOR(pg_catalog.=) 'ROW' THEN TG_ARGV[0]
		WHEN TG_TABLE_SCHEMA OPERATOR(pg_catalog.=) {{application_schema}} THEN TG_TABLE_NAME
		ELSE TG_TABLE_SCHEMA OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) TG_TABLE_NAME END;
	v_data     pg_catalog.jsonb;
	v_previous pg_catalog.jsonb;
BEGIN
	IF NOT (session_user OPERATOR(pg_catalog.=) current_user
			OR session_user OPERATOR(pg_catalog.=) ANY ({{trusted_roles}})
			OR pg_catalog.pg_has_role(session_user, current_user, 'MEMBER')) THEN
		v_setting := NULL;
		v_identity := 'db:' OPERATOR(pg_catalog.||) session_user;
		v_trace := NULL;
		v_cause := NULL;
	END IF;
	IF v_cause OPERATOR(pg_catalog.<>) '' THEN
		-- '<event id>/<depth>': written by a subscriber of that event
		v_caused_by := pg_catalog.split_part(v_cause, '/', 1)::pg_catalog.int8;
		v_depth := pg_catalog.split_part(v_cause, '/', 2)::pg_catalog.int4;
	END IF;
	IF v_setting OPERATOR(pg_catalog.<>) '' THEN
		v_scope := v_setting::pg_catalog.uuid;
	END IF;
	IF v_identity OPERATOR(pg_catalog.=) '' THEN
		v_identity := NULL;
	END IF;
	IF v_trace IS NULL OR v_trace OPERATOR(pg_catalog.=) '' THEN
		-- written under no trace: one of the transaction's own, the same for all its rows,
		-- two 64-bit hashes of the transaction id and the server's start time
		v_trace := pg_catalog.pg_current_xact_id()::pg_catalog.text OPERATOR(pg_catalog.||) '/'
			OPERATOR(pg_catalog.||) pg_catalog.pg_postmaster_start_time()::pg_catalog.text;
		v_trace := pg_catalog.lpad(pg_catalog.to_hex(pg_catalog.hashtextextended(v_trace, 0)), 16, '0')
			OPERATOR(pg_catalog.||) pg_catalog.lpad(pg_catalog.to_hex(pg_catalog.hashtextextended(v_trace, 1)), 16, '0');
		v_span := pg_catalog.substr(v_trace, 17);
	END IF;
	IF TG_NARGS OPERATOR(pg_catalog.>) 1 THEN
		v_split := pg_catalog.array_position(TG_ARGV, '');
		IF v_split IS NOT NULL THEN
			v_excluded := TG_ARGV[v_split OPERATOR(pg_catalog.+) 1:];
		END IF;
	END IF;
	IF v_scope IS NOT NULL THEN
		v_noticed := COALESCE(NULLIF(pg_catalog.current_setting('pgevents.noticed', true), ''), '0')::pg_catalog.int4;
		IF v_noticed OPERATOR(pg_catalog.>=) 0 THEN
			IF TG_LEVEL OPERATOR(pg_catalog.=) 'STATEMENT' AND TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN
				SELECT pg_catalog.count(*) INTO v_count FROM (SELECT FROM old_rows LIMIT 101 OPERATOR(pg_catalog.-) v_noticed) r;
			ELSIF TG_LEVEL OPERATOR(pg_catalog.=) 'STATEMENT' AND TG_OP OPERATOR(pg_catalog.<>) 'TRUNCATE' THEN
				SELECT pg_catalog.count(*) INTO v_count FROM (SELECT FROM new_rows LIMIT 101 OPERATOR(pg_catalog.-) v_noticed) r;
			END IF;
			IF v_noticed OPERATOR(pg_catalog.+) v_count OPERATOR(pg_catalog.>) 100 THEN
				v_noticed := -1;
				PERFORM pg_catalog.set_config('pgevents.noticed', '-1', true);
			END IF;
		END IF;
	END IF;
	IF TG_LEVEL OPERATOR(pg_catalog.=) 'ROW' THEN
		-- a row of a partitioned table, written through the parent or on the partition
		IF TG_OP OPERATOR(pg_catalog.=) 'INSERT' THEN
			v_op := 'created';
			v_data := pg_catalog.to_jsonb(NEW);
		ELSIF TG_OP OPERATOR(pg_catalog.=) 'UPDATE' THEN
			v_op := 'updated';
			v_data := pg_catalog.to_jsonb(NEW);
			v_previous := pg_catalog.to_jsonb(OLD);
		ELSE
			v_op := 'deleted';
			v_data := pg_catalog.to_jsonb(OLD);
		END IF;
		IF v_excluded IS NOT NULL THEN
			v_data := v_data OPERATOR(pg_catalog.-) v_excluded;
			v_previous := v_previous OPERATOR(pg_catalog.-) v_excluded;
		END IF;
		v_written := v_previous IS NULL OR NOT (v_previous OPERATOR(pg_catalog.=) v_data);
		IF v_written THEN
			INSERT INTO {{audit_table}} (table_name, op, data, previous_data, identity_id, trace_id, span_id, scope_id, caused_by, chain_depth)
			VALUES (v_table, v_op, v_data, v_previous, v_identity, v_trace, v_span, v_scope, v_caused_by, v_depth);
		END IF;
	ELSIF TG_OP OPERATOR(pg_catalog.=) 'INSERT' THEN
		v_op := 'created';
		INSERT INTO {{audit_table}} (table_name, op, data, identity_id, trace_id, span_id, scope_id, caused_by, chain_depth)
		SELECT v_table, v_op, CASE WHEN v_excluded IS NULL THEN pg_catalog.to_jsonb(n.*) ELSE pg_catalog.to_jsonb(n.*) OPERATOR(pg_catalog.-) v_excluded END, v_identity, v_trace, v_span, v_scope, v_caused_by, v_depth
		FROM new_rows n;
		GET DIAGNOSTICS v_count = ROW_COUNT;
		v_written := v_count OPERATOR(pg_catalog.>) 0;
	ELSIF TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN
		v_op := 'deleted';
		INSERT INTO {{audit_table}} (table_name, op, data, identity_id, trace_id, span_id, scope_id, caused_by, chain_depth)
		SELECT v_table, v_op, CASE WHEN v_excluded IS NULL THEN pg_catalog.to_jsonb(o.*) ELSE pg_catalog.to_jsonb(o.*) OPERATOR(pg_catalog.-) v_excluded END, v_identity, v_trace, v_span, v_scope, v_caused_by, v_depth
		FROM old_rows o;
		GET DIAGNOSTICS v_count = ROW_COUNT;
		v_written := v_count OPERATOR(pg_catalog.>) 0;
	ELSIF TG_OP OPERATOR(pg_catalog.=) 'TRUNCATE' THEN
		v_op := 'truncated';
		INSERT INTO {{audit_table}} (table_name, op, data, identity_id, trace_id, span_id, scope_id, caused_by, chain_depth)
		VALUES (v_table, v_op, '{}', v_identity, v_trace, v_span, v_scope, v_caused_by, v_depth);
		v_count := 1;
		v_written := true;
	ELSE
		v_op := 'updated';
		v_planner := ARRAY[pg_catalog.current_setting('enable_mergejoin'), pg_catalog.current_setting('jit')];
		PERFORM pg_catalog.set_config('enable_mergejoin', 'off', true), pg_catalog.set_config('jit', 'off', true);
		v_keys := CASE WHEN v_split IS NULL THEN TG_ARGV ELSE TG_ARGV[:v_split OPERATOR(pg_catalog.-) 1] END;
		IF pg_catalog.cardinality(v_keys) OPERATOR(pg_catalog.=) 1 THEN
			v_key := v_keys[pg_catalog.array_lower(v_keys, 1)];
			INSERT INTO {{audit_table}} (table_name, op, data, previous_data, identity_id, trace_id, span_id, scope_id, caused_by, chain_depth)
			SELECT v_table, v_op, n.d, o.d, v_identity, v_trace, v_span, v_scope, v_caused_by, v_depth
			FROM (SELECT CASE WHEN v_excluded IS NULL THEN pg_catalog.to_jsonb(t.*) ELSE pg_catalog.to_jsonb(t.*) OPERATOR(pg_catalog.-) v_excluded END AS d FROM new_rows t OFFSET 0) n
			LEFT JOIN (SELECT CASE WHEN v_excluded IS NULL THEN pg_catalog.to_jsonb(t.*) ELSE pg_catalog.to_jsonb(t.*) OPERATOR(pg_catalog.-) v_excluded END AS d FROM old_rows t OFFSET 0) o
				ON (o.d OPERATOR(pg_catalog.->) v_key) OPERATOR(pg_catalog.=) (n.d OPERATOR(pg_catalog.->) v_key)
			WHERE o.d IS NULL OR NOT (o.d OPERATOR(pg_catalog.=) n.d);
			GET DIAGNOSTICS v_count = ROW_COUNT;
		ELSE
			INSERT INTO {{audit_table}} (table_name, op, data, previous_data, identity_id, trace_id, span_id, scope_id, caused_by, chain_depth)
			SELECT v_table, v_op, n.d, o.d, v_identity, v_trace, v_span, v_scope, v_caused_by, v_depth
			FROM (SELECT x.d, ARRAY(SELECT x.d OPERATOR(pg_catalog.->) k FROM pg_catalog.unnest(v_keys) AS k) AS key
				FROM (SELECT CASE WHEN v_excluded IS NULL THEN pg_catalog.to_jsonb(t.*) ELSE pg_catalog.to_jsonb(t.*) OPERATOR(pg_catalog.-) v_excluded END AS d FROM new_rows t OFFSET 0) x) n
			LEFT JOIN (SELECT x.d, ARRAY(SELECT x.d OPERATOR(pg_catalog.->) k FROM pg_catalog.unnest(v_keys) AS k) AS key
				FROM (SELECT CASE WHEN v_excluded IS NULL THEN pg_catalog.to_jsonb(t.*) ELSE pg_catalog.to_jsonb(t.*) OPERATOR(pg_catalog.-) v_excluded END AS d FROM old_rows t OFFSET 0) x) o
				ON o.key OPERATOR(pg_catalog.=) n.key
			WHERE o.d IS NULL OR NOT (o.d OPERATOR(pg_catalog.=) n.d);
			GET DIAGNOSTICS v_count = ROW_COUNT;
		END IF;
		v_written := v_count OPERATOR(pg_catalog.>) 0;
		PERFORM pg_catalog.set_config('enable_mergejoin', v_planner[1], true),
			pg_catalog.set_config('jit', v_planner[2], true);
	END IF;
	IF v_noticed OPERATOR(pg_catalog.>=) 0 AND v_written THEN
		PERFORM pg_catalog.set_config('pgevents.noticed', (v_noticed OPERATOR(pg_catalog.+) v_count)::pg_catalog.text, true);
	END IF;
	-- only when some instance has a subscriber for it: NOTIFY serializes committers
	IF v_scope IS NULL AND v_written AND EXISTS (SELECT FROM {{subscriber_table}} s
			WHERE (v_table OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) v_op) OPERATOR(pg_catalog.=) ANY (s.events)) THEN
		PERFORM pg_catalog.pg_notify({{channel}}, '');
	END IF;
	RETURN NULL;
END
$capture$
