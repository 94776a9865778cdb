-- Sends a committed transaction's rows back to the committing session with COMMIT's
-- response, so that the dispatch after commit need not look them up: the function of the
-- deferred constraint trigger of the audit table (notice-trigger.sql), which fires at
-- commit once per row of a transaction dispatched after commit (a row with a scope), and
-- never for a row that a rollback to a savepoint undid. Each row is a NOTICE, whatever
-- client_min_messages the session set; pgjdbc adds it to the connection's warnings, where
-- the dispatch finds it. The capture function counts a transaction's rows in
-- pgevents.noticed, and sets it to -1 once there would be more than 100: such a
-- transaction sends none, and its rows past the count queue no trigger event at all (a
-- bulk transaction's commit would otherwise run this function for each of its rows). A
-- notice carries the scope and the count, so that the dispatch takes the rows only when
-- they are all there (SET CONSTRAINTS ALL IMMEDIATE fires the trigger before the commit);
-- otherwise it looks them up. The row is written whole: the data as JSON, not as a string
-- holding JSON.
CREATE OR REPLACE FUNCTION {{notice_function}}() RETURNS trigger
LANGUAGE plpgsql
SET client_min_messages = notice
AS $notice$
DECLARE
	v_noticed pg_catalog.text := pg_catalog.current_setting('pgevents.noticed', true);
BEGIN
	IF v_noticed OPERATOR(pg_catalog.<>) '-1' THEN
		RAISE NOTICE 'pgevents:%', pg_catalog.json_build_array(NEW.scope_id, v_noticed, NEW.id, NEW.table_name,
			NEW.op, NEW.data, NEW.previous_data, NEW.identity_id, NEW.trace_id, NEW.span_id, NEW.created_at,
			NEW.caused_by, NEW.chain_depth);
	END IF;
	RETURN NULL;
END
$notice$
