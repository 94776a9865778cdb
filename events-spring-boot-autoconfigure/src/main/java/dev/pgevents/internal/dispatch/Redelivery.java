package dev.pgevents.internal.dispatch;

import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import dev.pgevents.Event;
import dev.pgevents.internal.capture.AuditSchema;
import dev.pgevents.internal.capture.AuditedTable;
import dev.pgevents.internal.capture.OwnTransactions;
import dev.pgevents.internal.capture.RowKeys;

import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Queues events again for one subscriber, through the ledger: a backfill (a snapshot of
 * every row of a table) or a rewind (every event it takes since an instant). The entries
 * wait for their first attempt, and the relay delivers them as it does retries (backoff,
 * dead letters, metrics, and for an ordered subscriber each row in order). Queued in
 * batches of {@code events.relay.batch-size}, each in a short transaction of its own.
 */
final class Redelivery {

	private static final Log logger = LogFactory.getLog(Redelivery.class);

	private final OwnTransactions transactions;

	private final JdbcTemplate jdbc;

	private final AuditSchema schema;

	private final Map<String, AuditedTable> tables;

	private final Subscriptions subscribers;

	private final RowKeys keys;

	private final int batchSize;

	private final Duration retention;

	private final String rewind;

	/**
	 * @param transactions the starter's own transactions
	 * @param schema the audit schema
	 * @param tables the audited tables
	 * @param subscribers this instance's subscribers
	 * @param batchSize rows queued per transaction
	 * @param retention how long processed rows are kept (zero: forever)
	 */
	Redelivery(OwnTransactions transactions, AuditSchema schema, List<AuditedTable> tables, Subscriptions subscribers,
			int batchSize, Duration retention) {
		this.transactions = transactions;
		this.jdbc = new CustomPlanJdbc(transactions.dataSource());
		this.schema = schema;
		this.tables = tables.stream().collect(Collectors.toMap(AuditedTable::name, Function.identity()));
		this.subscribers = subscribers;
		this.keys = new RowKeys(schema, tables);
		this.batchSize = batchSize;
		this.retention = retention;
		// an entry already in the ledger is queued again unless it waits for an attempt;
		// a
		// snapshot only for the subscriber it was sent to
		this.rewind = """
				WITH picked AS (
					SELECT a.id FROM %1$s a
					WHERE a.id > ? AND a.created_at >= ? AND a.event_processed_at IS NOT NULL
						AND a.table_name || '.' || a.op = ANY (?::text[])
						AND (a.op <> '%5$s' OR EXISTS (SELECT FROM %2$s s WHERE s.audit_id = a.id AND s.subscriber = ?))
					ORDER BY a.id LIMIT ?
				), queued AS (
					INSERT INTO %2$s AS d (audit_id, subscriber, status, attempts, next_attempt_at, row_key)
					SELECT a.id, ?, '%3$s', 0, clock_timestamp(), %4$s FROM picked p JOIN %1$s a ON a.id = p.id
					ON CONFLICT (audit_id, subscriber) DO UPDATE SET status = '%3$s', attempts = 0,
						next_attempt_at = clock_timestamp(), lease_until = NULL, replays = d.replays + 1,
						updated_at = clock_timestamp()
					WHERE d.status <> '%3$s'
					RETURNING 1
				)
				SELECT (SELECT count(*) FROM queued), (SELECT max(id) FROM picked)
				""".formatted(schema.auditTable(), schema.deliveryTable(), LedgerStatus.PENDING, this.keys.text("a"),
				Event.SNAPSHOT);
	}

	/**
	 * Queue a snapshot event of every row of a table for one subscriber.
	 * @param subscriber the subscriber, which must take {@code <table>.snapshot}
	 * @param table the table, as events name it
	 * @return the rows queued
	 */
	long backfill(String subscriber, String table) {
		Subscriber target = subscriber(subscriber);
		AuditedTable audited = this.tables.get(table);
		if (audited == null) {
			throw new IllegalArgumentException("Table '" + table + "' is not audited by this application (audited: "
					+ String.join(", ", this.tables.keySet()) + ")");
		}
		String eventName = table + "." + Event.SNAPSHOT;
		if (!target.eventNames().contains(eventName)) {
			throw new IllegalArgumentException("Subscriber '" + subscriber + "' does not take '" + eventName
					+ "', the event a backfill sends: add it to its @EventSubscriber names, or '*." + Event.SNAPSHOT
					+ "'");
		}
		List<String> types = this.jdbc.queryForList("""
				SELECT pg_catalog.format_type(a.atttypid, a.atttypmod) FROM pg_catalog.pg_attribute a
				JOIN unnest(?::text[]) WITH ORDINALITY AS k(name, ord) ON k.name = a.attname
				WHERE a.attrelid = pg_catalog.to_regclass(?) ORDER BY k.ord
				""", String.class, audited.keyColumns().toArray(String[]::new), audited.relation());
		String first = backfillBatch(audited, target, "");
		String after = backfillBatch(audited, target, "WHERE (" + audited.keyColumnList("t") + ") > ("
				+ String.join(", ", types.stream().map((type) -> "?::" + type).toList()) + ")");
		long queued = 0;
		List<String> last = List.of();
		while (true) {
			List<String> from = last;
			Batch batch = this.transactions.write((status) -> {
				List<Object> args = new ArrayList<>(from);
				args.add(subscriber);
				List<Batch> found = this.jdbc.query(from.isEmpty() ? first : after, (rs, row) -> {
					List<String> key = new ArrayList<>();
					for (int column = 0; column < types.size(); column++) {
						key.add(rs.getString(column + 2));
					}
					return new Batch(rs.getLong(1), key);
				}, args.toArray());
				wakeRelays();
				return found.isEmpty() ? new Batch(0, List.of()) : found.get(0);
			});
			queued += batch.queued();
			if (batch.queued() < this.batchSize || batch.lastKey().isEmpty()) {
				return queued;
			}
			last = batch.lastKey();
		}
	}

	/**
	 * One batch of a backfill: the table's next rows in key order (read under a share
	 * lock for an ordered subscriber, so that a row's snapshot takes its place in the
	 * row's commit order: a writer of the row commits before the snapshot reads it, or
	 * writes after the snapshot's audit row), written to the audit table as processed
	 * {@code snapshot} rows, each queued in the ledger for the subscriber alone.
	 * @return the statement: the count queued, then the last row's key values as text
	 */
	private String backfillBatch(AuditedTable table, Subscriber subscriber, String where) {
		String key = table.keyColumnList("t");
		String keyOfRows = table.keyColumnList("r");
		return """
				WITH rows AS (
					SELECT %1$s, %2$s AS "pgevents row" FROM %3$s t %4$s ORDER BY %1$s LIMIT %5$d %6$s
				), audited AS (
					INSERT INTO %7$s (table_name, op, data, event_processed_at)
					SELECT %8$s, '%9$s', r."pgevents row", clock_timestamp() FROM rows r ORDER BY %10$s
					RETURNING id, table_name, data
				), queued AS (
					INSERT INTO %11$s (audit_id, subscriber, status, attempts, next_attempt_at, row_key)
					SELECT x.id, ?, '%12$s', 0, clock_timestamp(), %13$s FROM audited x
					RETURNING 1
				)
				SELECT (SELECT count(*) FROM queued), %14$s FROM rows r ORDER BY %15$s LIMIT 1
				""".formatted(key, table.dataExpression("t"), table.relation(), where, this.batchSize,
				subscriber.ordered() ? "FOR SHARE" : "", this.schema.auditTable(),
				"'" + table.name().replace("'", "''") + "'", Event.SNAPSHOT, keyOfRows, this.schema.deliveryTable(),
				LedgerStatus.PENDING, this.keys.text("x"),
				String.join(", ", table.keyColumns("r").stream().map((column) -> column + "::text").toList()),
				String.join(", ", table.keyColumns("r").stream().map((column) -> column + " DESC").toList()));
	}

	/**
	 * Queue again every event a subscriber takes that occurred at or after an instant and
	 * is still in the audit table, in audit order.
	 * @param subscriber the subscriber
	 * @param since the instant
	 * @return the events queued
	 */
	long rewind(String subscriber, Instant since) {
		Subscriber target = subscriber(subscriber);
		List<Instant> oldest = this.jdbc
			.queryForList("SELECT created_at FROM " + this.schema.auditTable() + " ORDER BY id LIMIT 1",
					Timestamp.class)
			.stream()
			.map(Timestamp::toInstant)
			.toList();
		if (!this.retention.isZero() && !oldest.isEmpty() && since.isBefore(oldest.get(0))) {
			logger.warn("Rewinding subscriber '" + subscriber + "' to " + since + ": the audit table keeps events "
					+ "from " + oldest.get(0) + " on (events.retention=" + this.retention
					+ "); the events before are delivered no more");
		}
		String[] events = target.eventNames().toArray(String[]::new);
		long queued = 0;
		long after = 0;
		while (true) {
			long from = after;
			long[] batch = this.transactions.write((status) -> {
				long[] result = new long[2];
				this.jdbc.query(this.rewind, (rs) -> {
					result[0] = rs.getLong(1);
					result[1] = rs.getLong(2);
				}, from, Timestamp.from(since), events, subscriber, this.batchSize, subscriber);
				wakeRelays();
				return result;
			});
			queued += batch[0];
			if (batch[1] == 0) {
				return queued;
			}
			after = batch[1];
		}
	}

	private Subscriber subscriber(String name) {
		Subscriber subscriber = this.subscribers.named(name);
		if (subscriber == null) {
			throw new IllegalArgumentException(
					"This application has no subscriber '" + name + "'; its subscribers: " + this.subscribers.names());
		}
		return subscriber;
	}

	/** Sent on commit: the relays look for work at once. */
	private void wakeRelays() {
		this.jdbc.query("SELECT pg_notify(?, '')", (rs) -> {
		}, this.schema.channel());
	}

	/**
	 * What one batch of a backfill queued.
	 *
	 * @param queued the rows queued
	 * @param lastKey the key values of its last row, as text, or none when it found no
	 * row
	 */
	private record Batch(long queued, List<String> lastKey) {
	}

}
