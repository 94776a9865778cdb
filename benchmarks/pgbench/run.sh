#!/bin/sh
# The statements a transaction sends, replayed by pgbench without Java: where the time of
# the `sync` and `capture` scenarios goes on the database's side. Run it after the harness:
# it reuses the database the harness leaves (events_bench, with the capture triggers on
# member). Each round runs every script once, 4 clients, after TRUNCATE and VACUUM ANALYZE.
#   benchmarks/pgbench/run.sh [seconds per script, default 12]
set -eu
cd "$(dirname "$0")"
export PGHOST="${PGHOST:-127.0.0.1}" PGUSER="${PGUSER:-postgres}" PGDATABASE="${PGDATABASE:-events_bench}"
seconds="${1:-12}"
# no registered subscriber: scope-less writes would NOTIFY, which the capture scenario never does
psql -q -c "CREATE TABLE IF NOT EXISTS member_plain (LIKE member INCLUDING ALL)" -c "DELETE FROM keel_audit_subscriber"
for round in 1 2 3; do
	for script in plain capture sync sync-settings-with-insert sync-lookup-with-commit; do
		psql -q -c "TRUNCATE member, member_plain, keel_audit" -c "VACUUM ANALYZE member, member_plain, keel_audit"
		tps=$(pgbench -n -M extended -c 4 -j 2 -T "$seconds" -f "$script.sql" | sed -n 's/^tps = \([0-9]*\).*/\1/p')
		[ "$script" = plain ] && plain=$tps
		echo "round $round $script $tps tx/s $(awk "BEGIN { printf \"%.2f\", $tps / $plain }") of plain"
	done
done
