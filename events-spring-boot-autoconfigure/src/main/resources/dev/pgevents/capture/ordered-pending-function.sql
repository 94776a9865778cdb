-- The undispatched rows of one committed transaction, a page at a time, as pending-function.sql
-- reads them, with what holds back their delivery to the subscribers that take each row's events
-- in order: whether an earlier row of the same key is undispatched (other than the transaction's
-- own), and the subscribers whose ledger entries hold the row back. Rendered for one
-- application's audited tables, and named after a hash of its text, so that applications that
-- share the audit table each have their own. A function, with sequential scans off, for the
-- reasons pending-function.sql gives: planned once per connection, with the indexes.
CREATE OR REPLACE FUNCTION {{ordered_function}}(p_scope uuid, p_after bigint, p_limit integer)
RETURNS TABLE (id bigint, table_name text, op text, data jsonb, previous_data jsonb, identity_id text,
	trace_id text, span_id text, created_at timestamptz, caused_by bigint, chain_depth integer, in_flight boolean,
	held text[])
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET enable_seqscan = off
AS $ordered$
BEGIN
	RETURN QUERY SELECT r.id, r.table_name, r.op, r.data, r.previous_data, r.identity_id, r.trace_id, r.span_id,
		r.created_at, r.caused_by, r.chain_depth, {{in_flight}}, {{held}}
	FROM {{audit_table}} r
	WHERE r.scope_id = p_scope AND r.event_processed_at IS NULL AND r.id > p_after
	ORDER BY r.id LIMIT p_limit;
END
$ordered$
