#!/bin/sh
# Would a leaner audit row make capture cheaper? Two insert-only capture triggers side by
# side in pgbench (one-row INSERT transactions, 4 clients, alternating rounds), each writing
# the same change into an audit table of its own with the same two indexes (primary key,
# pending rows by scope): `now` in today's columns (table name, operation and trace as
# text), `lean` with the table as a smallint, the operation as a "char", the trace as a
# uuid and the span as a bigint. Prints transactions per second and WAL bytes per
# transaction for each. Needs a PostgreSQL server (PGHOST etc.).
#   benchmarks/pgbench/lean-row.sh [seconds, default 10] [rounds, default 3]
set -eu
export PGHOST="${PGHOST:-127.0.0.1}" PGUSER="${PGUSER:-postgres}"
seconds="${1:-10}" rounds="${2:-3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
PGDATABASE=postgres psql -q -c "DROP DATABASE IF EXISTS lean_row" -c "CREATE DATABASE lean_row"
export PGDATABASE=lean_row
psql -q -f - <<'SQL'
CREATE TABLE audit_now (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, table_name text NOT NULL, op text NOT NULL,
	data jsonb NOT NULL, previous_data jsonb, identity_id text, trace_id text, span_id text,
	scope_id uuid, caused_by bigint, chain_depth integer,
	created_at timestamptz NOT NULL DEFAULT clock_timestamp(), event_processed_at timestamptz);
CREATE TABLE audit_lean (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, table_id smallint NOT NULL, op "char" NOT NULL,
	data jsonb NOT NULL, previous_data jsonb, identity_id text, trace_id uuid, span_id bigint,
	scope_id uuid, caused_by bigint, chain_depth integer,
	created_at timestamptz NOT NULL DEFAULT clock_timestamp(), event_processed_at timestamptz);
CREATE INDEX ON audit_now (scope_id, id) WHERE event_processed_at IS NULL;
CREATE INDEX ON audit_lean (scope_id, id) WHERE event_processed_at IS NULL;
CREATE FUNCTION capture_now() RETURNS trigger LANGUAGE plpgsql AS $f$
DECLARE
	v_trace text := lpad(to_hex(hashtextextended(pg_current_xact_id()::text, 0)), 16, '0')
		|| lpad(to_hex(hashtextextended(pg_current_xact_id()::text, 1)), 16, '0');
BEGIN
	INSERT INTO audit_now (table_name, op, data, trace_id, span_id, scope_id)
	SELECT 'member', 'created', to_jsonb(n.*), v_trace, substr(v_trace, 17), gen_random_uuid() FROM new_rows n;
	RETURN NULL;
END $f$;
CREATE FUNCTION capture_lean() RETURNS trigger LANGUAGE plpgsql AS $f$
DECLARE
	v_trace text := lpad(to_hex(hashtextextended(pg_current_xact_id()::text, 0)), 16, '0')
		|| lpad(to_hex(hashtextextended(pg_current_xact_id()::text, 1)), 16, '0');
BEGIN
	INSERT INTO audit_lean (table_id, op, data, trace_id, span_id, scope_id)
	SELECT 1, 'c', to_jsonb(n.*), v_trace::uuid, ('x' || substr(v_trace, 17))::bit(64)::bigint, gen_random_uuid() FROM new_rows n;
	RETURN NULL;
END $f$;
CREATE TABLE member_now (id uuid PRIMARY KEY, name text, email text, created_at timestamptz);
CREATE TABLE member_lean (LIKE member_now INCLUDING ALL);
CREATE TRIGGER capture AFTER INSERT ON member_now REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION capture_now();
CREATE TRIGGER capture AFTER INSERT ON member_lean REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION capture_lean();
SQL
for side in now lean; do
	printf "INSERT INTO member_%s (id, name, email, created_at) VALUES (gen_random_uuid(), 'name x', 'x@example.com', now());\n" \
		$side > "$work/$side.sql"
done
for round in $(seq "$rounds"); do
	sides="now lean"; [ $((round % 2)) = 0 ] && sides="lean now"
	for side in $sides; do
		psql -q -c "TRUNCATE member_$side, audit_$side" -c "VACUUM ANALYZE member_$side, audit_$side" -c CHECKPOINT
		before=$(psql -qtA -c "SELECT pg_current_wal_insert_lsn()")
		out=$(pgbench -n -M prepared -c 4 -j 2 -T "$seconds" -f "$work/$side.sql")
		wal=$(psql -qtA -c "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '$before')")
		count=$(echo "$out" | sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p')
		tps=$(echo "$out" | sed -n 's/^tps = \([0-9]*\).*/\1/p')
		row=$(psql -qtA -c "SELECT avg(pg_column_size(a.*))::int FROM audit_$side a")
		echo "round $round $side: $tps tx/s, $((wal / count)) WAL bytes per transaction, audit row $row bytes"
	done
done
