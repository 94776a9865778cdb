package dev.pgevents.internal.dispatch;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import dev.pgevents.internal.capture.AuditSchema;
import dev.pgevents.internal.capture.AuditedTable;
import dev.pgevents.internal.capture.RowKeys;

/**
 * The rule of ordered subscribers ({@code @EventSubscriber(ordered = true)}), in one
 * place: a subscriber takes an event of a row only once it has taken every earlier event
 * of that row, and never two of one row at a time.
 * <p>
 * A row is one table's primary-key value, read from the audit rows' data. For one row,
 * audit id order is commit order: writers of a row serialize on its row lock, and the
 * capture trigger writes the audit row after the write. An earlier event of the row holds
 * back a later one for an ordered subscriber while it is
 * <ul>
 * <li>undispatched (its audit row is not processed: its transaction's dispatch runs, or
 * it waits for a relay), found through the table's index of undispatched rows by key
 * (audit-order-index.sql);</li>
 * <li>or waiting in the ledger for that subscriber: for an attempt (a retry, a replay, a
 * hand-over, or its own turn) or dead-lettered, which parks the row until it is replayed
 * or skipped; found through the ledger's index of entries by row.</li>
 * </ul>
 * A delivery held back is recorded in the ledger as waiting (pending, no attempt made),
 * and the relay delivers each row's first waiting entry once nothing holds it back.
 */
final class RowOrder {

	private final List<String> ordered;

	private final Map<String, List<String>> orderedByEvent = new HashMap<>();

	private final String keyText;

	private final String check;

	private final String read;

	private final String fillKeys;

	private final String claim;

	private final String parkedCounts;

	private final String parked;

	/**
	 * @param schema the audit schema
	 * @param tables the audited tables
	 * @param subscribers this instance's subscribers
	 * @param page how many of a transaction's rows are read at once
	 */
	RowOrder(AuditSchema schema, List<AuditedTable> tables, Subscriptions subscribers, int page) {
		this.ordered = subscribers.orderedNames();
		subscribers.eventNamesBySubscriber().forEach((subscriber, events) -> {
			if (this.ordered.contains(subscriber)) {
				events.forEach((event) -> this.orderedByEvent.computeIfAbsent(event, (key) -> new ArrayList<>())
					.add(subscriber));
			}
		});
		RowKeys keys = new RowKeys(schema, tables);
		this.keyText = keys.text("x");
		this.check = "SELECT r.id, " + keys.inFlight("e.id <> ALL (?::bigint[])") + ", " + keys.held() + " FROM "
				+ schema.auditTable() + " r WHERE r.id = ANY (?::bigint[])";
		this.read = "SELECT * FROM " + schema.orderedFunction(tables).name() + "(?, ?, " + page + ")";
		this.fillKeys = """
				UPDATE %1$s d SET row_key = (SELECT %2$s FROM %3$s x WHERE x.id = d.audit_id)
				WHERE d.subscriber = ANY (?::text[]) AND d.row_key IS NULL AND d.status IN ('%4$s', '%5$s')
				""".formatted(schema.deliveryTable(), this.keyText, schema.auditTable(), LedgerStatus.PENDING,
				LedgerStatus.DEAD);
		// per subscriber and row, the first entry that is not finished: claimed once it
		// is
		// due, not leased, and no earlier event of its row is undispatched
		this.claim = """
				WITH heads AS (
					SELECT DISTINCT ON (d.row_key) d.audit_id, d.subscriber, d.status, d.next_attempt_at, d.lease_until,
						d.row_key
					FROM %1$s d
					WHERE d.row_key > ? AND d.subscriber = ? AND d.status IN ('%2$s', '%3$s')
					ORDER BY d.row_key, d.audit_id
				), ready AS (
					SELECT h.audit_id, h.subscriber FROM heads h JOIN %4$s r ON r.id = h.audit_id
					WHERE h.status = '%2$s' AND h.next_attempt_at <= clock_timestamp()
						AND (h.lease_until IS NULL OR h.lease_until < clock_timestamp())
						AND NOT %5$s
					ORDER BY h.row_key LIMIT ?
				), due AS (
					SELECT d.audit_id, d.subscriber FROM %1$s d JOIN ready USING (audit_id, subscriber)
					WHERE d.status = '%2$s' AND (d.lease_until IS NULL OR d.lease_until < clock_timestamp())
					FOR UPDATE OF d SKIP LOCKED
				), claimed AS (
					UPDATE %1$s d SET lease_until = clock_timestamp() + ? * interval '1 millisecond',
						lease_token = d.lease_token + 1
					FROM due WHERE d.audit_id = due.audit_id AND d.subscriber = due.subscriber
					RETURNING d.audit_id, d.subscriber, d.attempts, d.lease_token, d.row_key
				)
				SELECT audit_id, subscriber, attempts, lease_token, max(row_key) OVER () FROM claimed
				""".formatted(schema.deliveryTable(), LedgerStatus.PENDING, LedgerStatus.DEAD, schema.auditTable(),
				keys.inFlight(null));
		// a row is parked by its dead letter: nothing after it is attempted
		this.parkedCounts = "SELECT subscriber, count(*) FROM " + schema.deliveryTable() + " WHERE status = '"
				+ LedgerStatus.DEAD + "' AND subscriber = ANY (?::text[]) GROUP BY subscriber";
		this.parked = """
				SELECT d.subscriber, d.row_key, d.audit_id, a.table_name || '.' || a.op, d.last_error,
					(SELECT count(*) FROM %1$s w WHERE w.subscriber = d.subscriber AND w.row_key = d.row_key
						AND w.status = '%2$s' AND w.audit_id > d.audit_id)
				FROM %1$s d JOIN %3$s a ON a.id = d.audit_id
				WHERE d.status = '%4$s' AND d.subscriber = ANY (?::text[])
				ORDER BY d.updated_at DESC, d.audit_id DESC LIMIT ?
				""".formatted(schema.deliveryTable(), LedgerStatus.PENDING, schema.auditTable(), LedgerStatus.DEAD);
	}

	/**
	 * Whether this instance has ordered subscribers.
	 * @return whether the rule applies at all
	 */
	boolean applies() {
		return !this.ordered.isEmpty();
	}

	/**
	 * The ordered subscribers of an event.
	 * @param eventName the event name
	 * @return their names
	 */
	List<String> subscribersOf(String eventName) {
		return this.orderedByEvent.getOrDefault(eventName, List.of());
	}

	/**
	 * The ordered subscribers.
	 * @return their names
	 */
	List<String> subscribers() {
		return this.ordered;
	}

	/**
	 * A row's key as text for the ledger's {@code row_key}, as an expression over an
	 * audit row aliased {@code x}.
	 * @return the expression
	 */
	String keyText() {
		return this.keyText;
	}

	/**
	 * What holds back the ordered deliveries of some rows, the caller's own rows apart.
	 * @param connection a connection of the audited database
	 * @param rows the rows about to be delivered
	 * @param ownRows the caller's rows (delivered in order by it), or none
	 * @return what holds back which rows
	 * @throws SQLException when the database fails
	 */
	OrderBatch check(Connection connection, Collection<AuditRow> rows, Collection<Long> ownRows) throws SQLException {
		OrderBatch batch = new OrderBatch();
		List<Long> ids = rows.stream()
			.filter((row) -> !subscribersOf(row.eventName()).isEmpty())
			.map(AuditRow::id)
			.toList();
		if (ids.isEmpty()) {
			return batch;
		}
		try (PreparedStatement check = connection.prepareStatement(this.check)) {
			CustomPlanJdbc.customPlans(check);
			check.setArray(1, connection.createArrayOf("bigint", ownRows.toArray()));
			check.setArray(2, connection.createArrayOf("bigint", ids.toArray()));
			try (ResultSet rs = check.executeQuery()) {
				while (rs.next()) {
					batch.read(rs.getLong(1), rs.getBoolean(2), rs.getArray(3));
				}
			}
		}
		return batch;
	}

	/**
	 * The statement that reads a page of a committed transaction's rows together with
	 * what holds back their ordered deliveries, in one round trip: the rows' columns,
	 * then whether an earlier row of the same key is undispatched, then the subscribers
	 * whose ledger holds the row back.
	 * @return the statement
	 */
	String read() {
		return this.read;
	}

	/**
	 * Bind the parameters of {@link #read()}.
	 * @param statement the statement
	 * @param scope the transaction's scope
	 * @param after the id after which to read
	 * @throws SQLException when the driver fails
	 */
	void bindRead(PreparedStatement statement, UUID scope, long after) throws SQLException {
		statement.setObject(1, scope);
		statement.setLong(2, after);
	}

	/**
	 * Key the ledger entries of ordered subscribers made by instances that do not audit
	 * their rows' tables.
	 * @return the statement, whose parameter is {@link #subscribers()}
	 */
	String fillKeys() {
		return this.fillKeys;
	}

	/**
	 * Claim, under a lease, the first waiting entries of rows of one ordered subscriber
	 * that nothing holds back, in row-key order from a cursor: the subscriber's rows are
	 * visited in turn, and the scan stops as soon as it has a batch.
	 * @return the statement, whose parameters are the cursor (the last row key claimed,
	 * or an empty string), the subscriber, the batch size and the lease in milliseconds;
	 * it returns the claimed entries, each with the greatest row key claimed
	 */
	String claim() {
		return this.claim;
	}

	/**
	 * How many rows each ordered subscriber has parked.
	 * @return the statement, whose parameter is {@link #subscribers()}: rows of the
	 * subscriber and the count, for those that have some
	 */
	String parkedCounts() {
		return this.parkedCounts;
	}

	/**
	 * The parked rows, newest dead letter first.
	 * @return the statement, whose parameters are {@link #subscribers()} and a limit:
	 * rows of the subscriber, the row, the dead letter's event id and name, its last
	 * error, and how many of the row's events wait behind it
	 */
	String parked() {
		return this.parked;
	}

}
