#!/bin/sh
# The statements a transaction sends, replayed by pgbench without Java: where the time of
# the `sync` and `capture` scenarios goes on the database's side. Run it after the harness:
# it reuses the database the harness leaves (events_bench, with the capture triggers on
# member). Each round runs every script once, 4 clients, after TRUNCATE and VACUUM ANALYZE.
#   benchmarks/pgbench/run.sh [seconds per script, default 12]
set -eu
export PGHOST="${PGHOST:-127.0.0.1}" PGUSER="${PGUSER:-postgres}" PGDATABASE="${PGDATABASE:-events_bench}"
seconds="${1:-12}"
scripts="$(mktemp -d)"
trap 'rm -rf "$scripts"' EXIT

# the statements, as the starter sends them (TransactionContextListener, SendEvents);
# prepared, as pgjdbc prepares a statement from its fifth use on
settings="SELECT set_config('pgevents.scope', md5(:n::text)::uuid::text, true), set_config('pgevents.identity', '', true), set_config('pgevents.trace', '', true), set_config('pgevents.span', '', true);"
insert="INSERT INTO member (id, name, email, created_at) VALUES (gen_random_uuid(), 'name x', 'x@example.com', now());"
lookup="SELECT id, table_name, op, data::text, previous_data::text, identity_id, trace_id, span_id, created_at FROM keel_audit_pending(md5(:n::text)::uuid, 0, 1000);"
# pgjdbc sends BEGIN with the first statement: a pipeline of the two is one round trip
begin_with() {
	printf '\\set n random(1, 2000000000)\n\\startpipeline\nBEGIN;\n%s\n\\endpipeline\n' "$1"
}
# plain: one INSERT into a table without triggers, two round trips
{ begin_with "$(echo "$insert" | sed 's/INTO member /INTO member_plain /')"; echo 'COMMIT;'; } > "$scripts/plain.sql"
# capture with nothing to set (no subscriber, identity or trace): the same, plus the trigger
{ begin_with "$insert"; echo 'COMMIT;'; } > "$scripts/capture.sql"
# sync: settings, INSERT, COMMIT, the after-commit lookup (four round trips; the background
# marks left out)
{ begin_with "$settings"; printf '%s\nCOMMIT;\n%s\n' "$insert" "$lookup"; } > "$scripts/sync.sql"
# hypothetical, three round trips each: the settings sent with the INSERT, which JDBC cannot
# do without wrapping the application's statements; the lookup read in the transaction and
# sent with COMMIT, which it cannot do without taking over the commit
{ begin_with "$settings
$insert"; printf 'COMMIT;\n%s\n' "$lookup"; } > "$scripts/sync-settings-with-insert.sql"
{ begin_with "$settings"; printf '%s\n\\startpipeline\n%s\nCOMMIT;\n\\endpipeline\n' "$insert" "$lookup"; } \
	> "$scripts/sync-lookup-with-commit.sql"

# no registered subscriber: scope-less writes would NOTIFY, which the capture scenario never does
psql -q -c "CREATE TABLE IF NOT EXISTS member_plain (LIKE member INCLUDING ALL)" -c "DELETE FROM keel_audit_subscriber"
for round in 1 2 3; do
	for script in plain capture sync sync-settings-with-insert sync-lookup-with-commit; do
		psql -q -c "TRUNCATE member, member_plain, keel_audit" -c "VACUUM ANALYZE member, member_plain, keel_audit"
		tps=$(pgbench -n -M prepared -c 4 -j 2 -T "$seconds" -f "$scripts/$script.sql" | sed -n 's/^tps = \([0-9]*\).*/\1/p')
		[ "$script" = plain ] && plain=$tps
		echo "round $round $script $tps tx/s $(awk "BEGIN { printf \"%.2f\", $tps / $plain }") of plain"
	done
done
