package dev.pgevents.internal.dispatch;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import dev.pgevents.Delivery;
import dev.pgevents.DeliveryQuery;
import dev.pgevents.EventDeliveries;
import dev.pgevents.internal.capture.AuditSchema;
import dev.pgevents.internal.capture.OwnTransactions;

import org.springframework.jdbc.core.JdbcTemplate;

/**
 * {@link EventDeliveries} over the delivery ledger table. A replay resets the entry to
 * pending with a fresh set of attempts, counts it, and wakes the relays.
 */
public final class JdbcEventDeliveries implements EventDeliveries {

	private final JdbcTemplate jdbc;

	private final AuditSchema schema;

	private final List<String> localSubscribers;

	private final OwnTransactions transactions;

	private final Redelivery redelivery;

	/**
	 * Create the ledger view.
	 * @param transactions the starter's own transactions
	 * @param schema the audit schema
	 * @param localSubscribers the subscribers of this instance
	 * @param redelivery backfills and rewinds
	 */
	JdbcEventDeliveries(OwnTransactions transactions, AuditSchema schema, List<String> localSubscribers,
			Redelivery redelivery) {
		this.transactions = transactions;
		this.redelivery = redelivery;
		this.jdbc = new CustomPlanJdbc(this.transactions.dataSource());
		this.schema = schema;
		this.localSubscribers = List.copyOf(localSubscribers);
	}

	@Override
	public int retire(String subscriber) {
		if (this.localSubscribers.contains(subscriber)) {
			throw new IllegalArgumentException("The subscriber '" + subscriber + "' runs in this instance, which "
					+ "keeps it registered: remove or rename its @EventSubscriber method first");
		}
		return this.transactions.write((status) -> {
			this.jdbc.update("DELETE FROM " + this.schema.subscriberTable() + " WHERE name = ?", subscriber);
			return this.jdbc.update("DELETE FROM " + this.schema.deliveryTable()
					+ " WHERE subscriber = ? AND status = '" + LedgerStatus.PENDING + "'", subscriber);
		});
	}

	@Override
	public List<Delivery> find(DeliveryQuery query) {
		List<Object> args = new ArrayList<>();
		String sql = select(this.schema) + where(query, args)
				+ " ORDER BY d.created_at DESC, d.audit_id DESC, d.subscriber DESC LIMIT ?";
		args.add(query.limit());
		return this.transactions.read((status) -> this.jdbc.query(sql, JdbcEventDeliveries::read, args.toArray()));
	}

	/**
	 * The query of ledger entries that {@link #read} maps, without its conditions.
	 * @param schema the audit schema
	 * @return the statement's start: entries {@code d} joined to their rows {@code a}
	 */
	static String select(AuditSchema schema) {
		return "SELECT d.audit_id, d.subscriber, a.table_name || '.' || a.op, d.status, d.attempts,"
				+ " d.next_attempt_at, d.last_error, d.replays, d.created_at, d.updated_at FROM "
				+ schema.deliveryTable() + " d JOIN " + schema.auditTable() + " a ON a.id = d.audit_id";
	}

	static Delivery read(ResultSet rs, int row) throws SQLException {
		return new Delivery(Long.toString(rs.getLong(1)), rs.getString(2), rs.getString(3),
				LedgerStatus.parse(rs.getString(4)), rs.getInt(5), rs.getTimestamp(6).toInstant(), rs.getString(7),
				rs.getInt(8), rs.getTimestamp(9).toInstant(), rs.getTimestamp(10).toInstant());
	}

	@Override
	public boolean replay(String eventId, String subscriber) {
		long auditId = eventId(eventId);
		return replay(" WHERE d.audit_id = ? AND d.subscriber = ?", List.of(auditId, subscriber)) == 1;
	}

	@Override
	public boolean skip(String eventId, String subscriber) {
		long auditId = eventId(eventId);
		return this.transactions.write((status) -> {
			int skipped = this.jdbc.update(
					"UPDATE " + this.schema.deliveryTable() + " SET status = '" + LedgerStatus.SKIPPED
							+ "', lease_until = NULL, updated_at = clock_timestamp()"
							+ " WHERE audit_id = ? AND subscriber = ? AND status = '" + LedgerStatus.DEAD + "'",
					auditId, subscriber);
			if (skipped > 0) {
				wakeRelays(); // to deliver what it held back
			}
			return skipped == 1;
		});
	}

	@Override
	public long backfill(String subscriber, String table) {
		return this.redelivery.backfill(subscriber, table);
	}

	@Override
	public long rewind(String subscriber, Instant since) {
		return this.redelivery.rewind(subscriber, since);
	}

	@Override
	public int replayAll(DeliveryQuery query) {
		String subscriber = query.subscriber();
		if (subscriber != null && !known(subscriber)) {
			throw new IllegalArgumentException("No instance has a subscriber '" + subscriber + "': name one of "
					+ this.localSubscribers + " or of another instance (GET the events endpoint lists them)");
		}
		List<Object> args = new ArrayList<>();
		String where = where(query, args);
		return replay(where, args);
	}

	private int replay(String where, List<Object> args) {
		String sql = "UPDATE " + this.schema.deliveryTable() + " u SET status = '" + LedgerStatus.PENDING
				+ "', attempts = 0,"
				+ " next_attempt_at = clock_timestamp(), lease_until = NULL, replays = u.replays + 1,"
				+ " updated_at = clock_timestamp() FROM " + this.schema.deliveryTable() + " d JOIN "
				+ this.schema.auditTable() + " a ON a.id = d.audit_id" + where + ((where.isEmpty()) ? " WHERE" : " AND")
				+ " d.status <> '" + LedgerStatus.PENDING
				+ "' AND u.audit_id = d.audit_id AND u.subscriber = d.subscriber";
		return this.transactions.write((status) -> {
			int replayed = this.jdbc.update(sql, args.toArray());
			if (replayed > 0) {
				wakeRelays();
			}
			return replayed;
		});
	}

	private boolean known(String subscriber) {
		return this.localSubscribers.contains(subscriber) || this.transactions.read((status) -> !this.jdbc
			.queryForList("SELECT 1 FROM " + this.schema.subscriberTable() + " WHERE name = ?", subscriber)
			.isEmpty());
	}

	/** Sent on commit: the relays look for work at once. */
	private void wakeRelays() {
		this.jdbc.query("SELECT pg_notify(?, '')", (rs) -> {
		}, this.schema.channel());
	}

	private static long eventId(String eventId) {
		try {
			return Long.parseLong(eventId);
		}
		catch (NumberFormatException ex) {
			throw new IllegalArgumentException("'" + eventId + "' is not an event id", ex);
		}
	}

	private static String where(DeliveryQuery query, List<Object> args) {
		List<String> conditions = new ArrayList<>();
		if (query.status() != null) {
			conditions.add("d.status = ?");
			args.add(LedgerStatus.of(query.status()));
		}
		if (query.subscriber() != null) {
			conditions.add("d.subscriber = ?");
			args.add(query.subscriber());
		}
		if (query.eventName() != null) {
			conditions.add(EventPattern.parse(query.eventName()).condition("a", args));
		}
		if (query.since() != null) {
			conditions.add("d.created_at >= ?");
			args.add(Timestamp.from(query.since()));
		}
		if (query.until() != null) {
			conditions.add("d.created_at < ?");
			args.add(Timestamp.from(query.until()));
		}
		DeliveryQuery.Position after = query.after();
		if (after != null) {
			conditions.add("(d.created_at, d.audit_id, d.subscriber) < (?, ?, ?)");
			args.add(Timestamp.from(after.createdAt()));
			args.add(eventId(after.eventId()));
			args.add(after.subscriber());
		}
		return conditions.isEmpty() ? "" : " WHERE " + String.join(" AND ", conditions);
	}

}
