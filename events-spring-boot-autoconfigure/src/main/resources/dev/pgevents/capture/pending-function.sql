-- The undispatched rows of one committed transaction, a page at a time: the after-commit
-- dispatch's lookup, once per transaction. A function, so that each connection plans the
-- query once and keeps the plan (a statement sent by the application would be planned on
-- every call, which costs more than running it). Sequential scans are off while it plans:
-- a plan made while the audit table is nearly empty (just installed or truncated) would
-- otherwise scan the whole table, and keep doing so as it grows.
CREATE OR REPLACE FUNCTION {{pending_function}}(p_scope uuid, p_after bigint, p_limit integer)
RETURNS SETOF {{audit_table}}
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET enable_seqscan = off
AS $pending$
BEGIN
	RETURN QUERY SELECT * FROM {{audit_table}} a
	WHERE a.scope_id = p_scope AND a.event_processed_at IS NULL AND a.id > p_after
	ORDER BY a.id LIMIT p_limit;
END
$pending$
