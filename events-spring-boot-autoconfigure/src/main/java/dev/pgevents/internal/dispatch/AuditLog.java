package dev.pgevents.internal.dispatch;

import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import dev.pgevents.Delivery;
import dev.pgevents.Event;
import dev.pgevents.internal.capture.AuditSchema;
import dev.pgevents.internal.capture.AuditedTable;
import dev.pgevents.internal.capture.OwnTransactions;
import dev.pgevents.kit.EventLog;

import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The audit log as seen from outside the delivery path: the committed changes of the
 * application's audited tables after a position, and how far their delivery to this
 * instance's subscribers has come ({@link EventLog}, what the test kit records and waits
 * on, and the endpoint shows).
 * <p>
 * Every read runs in a transaction of the starter's own ({@link OwnTransactions}), so a
 * caller inside a transaction (a {@code @Transactional} test method, JDBC or JPA) sees
 * what has committed, never its own uncommitted writes, and its transaction is left as it
 * was.
 */
final class AuditLog implements EventLog {

	private final JdbcTemplate jdbc;

	private final OwnTransactions transactions;

	private final AuditSchema schema;

	private final String[] tables;

	private final Subscriptions subscribers;

	private final EventFactory events;

	private final RowOrder order;

	AuditLog(OwnTransactions transactions, AuditSchema schema, List<AuditedTable> tables, Subscriptions subscribers,
			EventFactory events, RowOrder order) {
		this.order = order;
		this.transactions = transactions;
		this.jdbc = new JdbcTemplate(transactions.dataSource());
		this.schema = schema;
		this.tables = tables.stream().map(AuditedTable::name).toArray(String[]::new);
		this.subscribers = subscribers;
		this.events = events;
	}

	/**
	 * Where the audit log stands now: the newest change written so far, and the
	 * database's clock (deliveries made again later, by a replay or a rewind, are
	 * recognized by it).
	 * @return the position
	 */
	@Override
	public Position position() {
		return read(() -> {
			List<Position> positions = this.jdbc.query(
					"SELECT coalesce(max(id), 0), clock_timestamp() FROM " + this.schema.auditTable(),
					(rs, row) -> new Position(rs.getLong(1), rs.getTimestamp(2).toInstant()));
			return positions.get(0);
		});
	}

	/**
	 * The committed changes after a position, in the order they were written.
	 * @param after the position
	 * @return their events
	 */
	@Override
	public List<Event> events(long after) {
		return read(() -> this.jdbc.query(
				"SELECT " + AuditRow.COLUMNS + " FROM " + this.schema.auditTable()
						+ " WHERE id > ? AND table_name = ANY(?) ORDER BY id",
				(rs, row) -> this.events.toEvent(AuditRow.read(rs)), after, this.tables));
	}

	/**
	 * The changes a subscriber of this instance has taken since a position: changes
	 * written after it that were handed to the subscriber (or to nobody, when dispatched
	 * before the subscriber existed), and earlier changes delivered to it again since (a
	 * replay, a rewind).
	 * @param since the position
	 * @param subscriber the subscriber
	 * @return their events, in the order they were written
	 */
	@Override
	public List<Event> takenBy(Position since, String subscriber) {
		List<String> eventNames = this.subscribers.eventNamesBySubscriber().getOrDefault(subscriber, List.of());
		// a snapshot is taken only by the subscriber it was sent to
		return read(() -> this.jdbc.query("SELECT " + prefixed("a.") + " FROM " + this.schema.auditTable()
				+ " a WHERE a.id > ? AND a.event_processed_at IS NOT NULL AND a.table_name || '.' || a.op = ANY(?)"
				+ " AND NOT EXISTS (SELECT 1 FROM " + this.schema.deliveryTable()
				+ " d WHERE d.audit_id = a.id AND d.subscriber = ? AND d.status <> '" + LedgerStatus.DELIVERED
				+ "') AND (a.op <> '" + Event.SNAPSHOT + "' OR EXISTS (SELECT 1 FROM " + this.schema.deliveryTable()
				+ " s WHERE s.audit_id = a.id AND s.subscriber = ?)) UNION ALL SELECT " + prefixed("a.") + " FROM "
				+ this.schema.deliveryTable() + " r JOIN " + this.schema.auditTable()
				+ " a ON a.id = r.audit_id WHERE r.subscriber = ? AND r.status = '" + LedgerStatus.DELIVERED
				+ "' AND r.updated_at >= ? AND a.id <= ? ORDER BY 1",
				(rs, row) -> this.events.toEvent(AuditRow.read(rs)), since.end(), eventNames.toArray(String[]::new),
				subscriber, subscriber, subscriber, Timestamp.from(since.at()), since.end()));
	}

	/**
	 * The ledger entries of this instance's subscribers for the changes after a position:
	 * deliveries that failed at least once, were dead-lettered, or were handed over.
	 * @param after the position
	 * @return the entries, in the order of their changes
	 */
	@Override
	public List<Delivery> deliveries(long after) {
		return read(() -> this.jdbc.query(
				JdbcEventDeliveries.select(this.schema)
						+ " WHERE d.audit_id > ? AND d.subscriber = ANY(?) ORDER BY d.audit_id, d.subscriber",
				JdbcEventDeliveries::read, after, this.subscribers.names().toArray(String[]::new)));
	}

	/**
	 * The work not yet done since a position: changes written after it that are not
	 * dispatched, and deliveries to this instance's subscribers waiting for an attempt,
	 * of those changes or queued again since (a replay, a rewind, a backfill).
	 * @param since the position
	 * @param limit at most this many of each
	 * @return the work, changes first
	 */
	@Override
	public List<Outstanding> outstanding(Position since, int limit) {
		long after = since.end();
		Map<String, List<String>> bySubscriber = this.subscribers.eventNamesBySubscriber();
		return read(() -> {
			List<Outstanding> outstanding = new ArrayList<>(this.jdbc
				.query("SELECT id, table_name || '.' || op FROM " + this.schema.auditTable()
						+ " WHERE id > ? AND event_processed_at IS NULL AND table_name = ANY(?) ORDER BY id LIMIT ?",
						(rs, row) -> {
							String eventName = rs.getString(2);
							List<String> takers = bySubscriber.entrySet()
								.stream()
								.filter((subscriber) -> subscriber.getValue().contains(eventName))
								.map(Map.Entry::getKey)
								.toList();
							return new Outstanding(Long.toString(rs.getLong(1)), eventName, takers, 0, null, null);
						}, after, this.tables, limit));
			outstanding.addAll(this.jdbc.query(JdbcEventDeliveries.select(this.schema)
					+ " WHERE (d.audit_id > ? OR d.updated_at >= ?) AND d.status = '" + LedgerStatus.PENDING
					+ "' AND d.subscriber = ANY(?) ORDER BY d.audit_id, d.subscriber LIMIT ?", (rs, row) -> {
						Delivery delivery = JdbcEventDeliveries.read(rs, row);
						return new Outstanding(delivery.eventId(), delivery.eventName(), List.of(delivery.subscriber()),
								delivery.attempts(), delivery.lastError(), delivery.nextAttemptAt());
					}, after, Timestamp.from(since.at()), this.subscribers.names().toArray(String[]::new), limit));
			return outstanding;
		});
	}

	/**
	 * The rows that this instance's ordered subscribers have parked: each behind a dead
	 * letter, its later events waiting until the dead letter is replayed or skipped.
	 * @param limit at most this many
	 * @return the parked rows, newest dead letter first
	 */
	@Override
	public List<Parked> parked(int limit) {
		if (!this.order.applies()) {
			return List.of();
		}
		return read(() -> this.jdbc.query(
				this.order.parked(), (rs, row) -> new Parked(rs.getString(1), rs.getString(2),
						Long.toString(rs.getLong(3)), rs.getString(4), rs.getString(5), rs.getLong(6)),
				this.order.subscribers().toArray(String[]::new), limit));
	}

	/**
	 * This instance's subscribers.
	 * @return subscriber name to the event names it takes
	 */
	@Override
	public Map<String, List<String>> subscribers() {
		return this.subscribers.eventNamesBySubscriber();
	}

	private static String prefixed(String alias) {
		return alias + AuditRow.COLUMNS.replace(", ", ", " + alias);
	}

	private <T> T read(Supplier<T> query) {
		return this.transactions.read((status) -> query.get());
	}

}
