#!/bin/sh
# Could a committing session learn its rows without the lookup after commit? Replays `sync`
# with pgbench (no Java) beside two designs that send the rows back with COMMIT's response,
# each three round trips instead of four, at 4 and 16 clients:
# - notify: the capture trigger NOTIFYs a channel of the session's own with the row, and
#   each session LISTENs on it (PostgreSQL delivers a session's own notifications when it
#   commits, and drops those of a rolled-back transaction or savepoint);
# - notice: a deferred constraint trigger on the audit table raises a NOTICE with the row
#   at commit (a NOTICE raised by the capture trigger itself would survive the rollback of
#   a savepoint that undid its row).
# Then what the deferred trigger costs a bulk transaction: one 100,000-row INSERT with and
# without it, its notices capped at 1,000 by a counter in the function.
# Run it after the harness (it reuses events_bench); it adds and drops its triggers.
#   [ROUNDS="1 2 3"] benchmarks/pgbench/no-lookup.sh [seconds per script, default 12]
set -eu
export PGHOST="${PGHOST:-127.0.0.1}" PGUSER="${PGUSER:-postgres}" PGDATABASE="${PGDATABASE:-events_bench}"
seconds="${1:-12}"
scripts="$(mktemp -d)"
trap 'rm -rf "$scripts"; psql -q -f - <<SQL
SET client_min_messages = warning;
DROP TRIGGER IF EXISTS bench_notify ON keel_audit;
DROP TRIGGER IF EXISTS bench_notice ON keel_audit;
SQL' EXIT

settings="SELECT set_config('pgevents.scope', md5(:n::text)::uuid::text, true), set_config('pgevents.identity', '', true), set_config('pgevents.trace', '', true), set_config('pgevents.span', '', true), set_config('pgevents.cause', '', true);"
insert="INSERT INTO member (id, name, email, created_at) VALUES (gen_random_uuid(), 'name x', 'x@example.com', now());"
lookup="SELECT id, table_name, op, data::text, previous_data::text, identity_id, trace_id, span_id, created_at FROM keel_audit_pending(md5(:n::text)::uuid, 0, 1000);"
begin_with() {
	printf '\\set n random(1, 2000000000)\n\\startpipeline\nBEGIN;\n%s\n\\endpipeline\n' "$1"
}
{ begin_with "$insert"; echo 'COMMIT;'; } > "$scripts/capture.sql"
{ begin_with "$settings"; printf '%s\nCOMMIT;\n%s\n' "$insert" "$lookup"; } > "$scripts/sync.sql"
{ begin_with "$settings"; printf '%s\nCOMMIT;\n' "$insert"; } > "$scripts/sync-notice.sql"
# LISTEN once per session, as a pooled connection would
{ printf '\\if :listening = 0\n'
	echo "DO \$\$ BEGIN EXECUTE 'LISTEN pgevents_' || pg_backend_pid(); END \$\$;"
	printf '\\set listening 1\n\\endif\n'
	begin_with "$settings"; printf '%s\nCOMMIT;\n' "$insert"; } > "$scripts/sync-notify.sql"

# the starter's own trigger (installed by the harness, the design adopted) would send the
# rows back in every script: the scripts compare the designs without it
psql -q -c "SET client_min_messages = warning" -c "DROP TRIGGER IF EXISTS pgevents_notice ON keel_audit"
psql -q -f - <<'SQL'
CREATE OR REPLACE FUNCTION bench_notify() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
	PERFORM pg_notify('pgevents_' || pg_backend_pid(), row_to_json(NEW)::text);
	RETURN NULL;
END $f$;
CREATE OR REPLACE FUNCTION bench_notice_capped() RETURNS trigger LANGUAGE plpgsql
SET client_min_messages = notice AS $f$
DECLARE n int := coalesce(nullif(current_setting('pgevents.noticed', true), ''), '0')::int;
BEGIN
	IF n < 1000 THEN
		PERFORM set_config('pgevents.noticed', (n + 1)::text, true);
		RAISE NOTICE '%', row_to_json(NEW);
	END IF;
	RETURN NULL;
END $f$;
CREATE OR REPLACE FUNCTION bench_notice() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
	RAISE NOTICE '%', row_to_json(NEW);
	RETURN NULL;
END $f$;
DELETE FROM keel_audit_subscriber;
SQL

run() { # script clients
	psql -q -c "TRUNCATE member, keel_audit" -c "VACUUM ANALYZE member, keel_audit"
	case "$1" in
		sync-notify) psql -q -c "CREATE TRIGGER bench_notify AFTER INSERT ON keel_audit FOR EACH ROW WHEN (NEW.scope_id IS NOT NULL) EXECUTE FUNCTION bench_notify()" ;;
		sync-notice) psql -q -c "CREATE CONSTRAINT TRIGGER bench_notice AFTER INSERT ON keel_audit DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.scope_id IS NOT NULL) EXECUTE FUNCTION bench_notice()" ;;
	esac
	pgbench -n -M prepared -D listening=0 -c "$2" -j 2 -T "$seconds" -f "$scripts/$1.sql" 2>/dev/null | sed -n 's/^tps = \([0-9]*\).*/\1/p'
	psql -q -c "SET client_min_messages = warning" -c "DROP TRIGGER IF EXISTS bench_notify ON keel_audit" -c "DROP TRIGGER IF EXISTS bench_notice ON keel_audit"
}

for clients in 4 16; do
	for round in ${ROUNDS:-1 2 3}; do
		line="clients $clients round $round:"
		for script in capture sync sync-notify sync-notice; do
			line="$line $script $(run $script $clients)"
		done
		echo "$line tx/s"
	done
done

for round in 1 2 3; do
	for side in without with; do
		psql -q -c "TRUNCATE member, keel_audit" -c "VACUUM ANALYZE member, keel_audit"
		[ $side = with ] && psql -q -c "CREATE CONSTRAINT TRIGGER bench_notice AFTER INSERT ON keel_audit DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.scope_id IS NOT NULL) EXECUTE FUNCTION bench_notice_capped()"
		ms=$(psql -qtA -c '\timing on' -c BEGIN -c "SELECT set_config('pgevents.scope', gen_random_uuid()::text, true)" \
			-c "INSERT INTO member SELECT gen_random_uuid(), 'name x', 'x@example.com', now() FROM generate_series(1, 100000)" \
			-c COMMIT 2>/dev/null | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -2 | tr '\n' ' ')
		psql -q -c "SET client_min_messages = warning" -c "DROP TRIGGER IF EXISTS bench_notice ON keel_audit"
		echo "bulk round $round, $side the deferred trigger: INSERT and COMMIT ms: $ms"
	done
done
