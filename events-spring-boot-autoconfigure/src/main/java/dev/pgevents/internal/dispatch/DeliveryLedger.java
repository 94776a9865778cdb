package dev.pgevents.internal.dispatch;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.jspecify.annotations.Nullable;

import dev.pgevents.internal.capture.AuditSchema;
import dev.pgevents.internal.capture.OwnTransactions;

import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Records the outcome of deliveries.
 * <p>
 * Claimed audit rows are marked processed in the transaction that holds their claim; in
 * the same statement each local subscriber that failed gets a ledger entry to be retried,
 * and the row is handed, through the ledger, to the subscribers that other instances
 * registered and this one lacks. Only the statement that marks a row processed records
 * its failures. Ledger entries carry a lease token, so an instance whose lease on an
 * entry expired cannot overwrite the outcome of the instance that claimed it next.
 * <p>
 * Bookkeeping transactions commit with {@code synchronous_commit = off}: losing the last
 * of them in a crash of the database server only means those rows are delivered again (at
 * least once), and no thread waits for a disk flush of bookkeeping.
 */
final class DeliveryLedger {

	/** The settings of {@link #bookkeeping}, local to the transaction. */
	private static final String SETTINGS = "SELECT set_config('synchronous_commit', 'off', true),"
			+ " set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true),"
			+ " set_config('enable_bitmapscan', 'off', true)";

	/**
	 * The settings of {@link #recordAlone}, whose statement keeps one generic plan per
	 * connection: the plan cache would otherwise plan a mark of one row afresh each time
	 * (its custom plan looks cheaper than the generic one made for an array of any
	 * length), and under light load, where each transaction's outcome is written alone,
	 * planning took four times as long as running. The plan is made with sequential scans
	 * off, so that one made while the audit table is nearly empty still looks the rows up
	 * by primary key, and with JIT off, which a disabled scan's cost (the subscriber
	 * table has no other path) would otherwise switch on for every execution.
	 */
	private static final String KEPT_PLAN_SETTINGS = SETTINGS
			+ ", set_config('enable_seqscan', 'off', true), set_config('jit', 'off', true)"
			+ ", set_config('plan_cache_mode', 'force_generic_plan', true)";

	private final JdbcTemplate jdbc;

	/**
	 * For the dispatch's marks, which run many times a second in small batches: planned
	 * afresh, planning one took longer than running it.
	 */
	private final JdbcTemplate keptPlans;

	private final OwnTransactions transactions;

	private final String markProcessed;

	private final String markAlone;

	private final String failedAfterMark;

	private final String deliveredInTransaction;

	private final String finishedEntries;

	private final String channel;

	private final String[] localSubscribers;

	private final String subscriberExpiry;

	private final Duration lease;

	/**
	 * @param transactions the starter's own transactions
	 * @param schema the audit schema
	 * @param localSubscribers this instance's subscribers
	 * @param subscriberExpiry how long a subscriber no instance runs any more is handed
	 * events
	 * @param keyText a row's key as text (see {@link RowOrder#keyText()}), over an audit
	 * row aliased {@code x}: every entry records its row
	 * @param lease how long a delivery may stall before others take it over
	 */
	DeliveryLedger(OwnTransactions transactions, AuditSchema schema, List<String> localSubscribers,
			Duration subscriberExpiry, String keyText, Duration lease) {
		this.lease = lease;
		this.jdbc = new CustomPlanJdbc(transactions.dataSource());
		this.keptPlans = new JdbcTemplate(transactions.dataSource());
		this.transactions = transactions;
		this.localSubscribers = localSubscribers.toArray(String[]::new);
		this.subscriberExpiry = subscriberExpiry.toSeconds() + " seconds";
		this.channel = schema.channel();
		// failures are recorded for the rows this statement marks, and only for those.
		// The rows are looked up by primary key whatever the statistics say: written as
		// "event_processed_at IS NULL", the condition let the planner scan the index of
		// undispatched rows for each row to mark once statistics taken while nothing was
		// pending said it was empty (5 s per 500 rows with 76,000 pending)
		this.markProcessed = """
				WITH marked AS (
					UPDATE %1$s a SET event_processed_at = clock_timestamp()
					WHERE a.id = ANY (?::bigint[]) AND (a.event_processed_at IS NULL) IS TRUE
					RETURNING a.id, a.table_name || '.' || a.op AS event_name
				), failed AS (
					INSERT INTO %2$s (audit_id, subscriber, status, attempts, next_attempt_at, last_error, row_key)
					SELECT f.id, f.subscriber, f.status, f.attempts,
						clock_timestamp() + f.delay_ms * interval '1 millisecond', f.error,
						(SELECT %4$s FROM %1$s x WHERE x.id = f.id)
					FROM unnest(?::bigint[], ?::text[], ?::text[], ?::bigint[], ?::text[], ?::integer[])
						AS f(id, subscriber, status, delay_ms, error, attempts)
					JOIN marked m ON m.id = f.id
					ON CONFLICT (audit_id, subscriber) DO NOTHING
					RETURNING attempts
				), handed AS (
					INSERT INTO %2$s (audit_id, subscriber, row_key)
					SELECT m.id, s.name, (SELECT %4$s FROM %1$s x WHERE x.id = m.id)
					FROM marked m JOIN %3$s s ON m.event_name = ANY (s.events)
					WHERE s.name <> ALL (?::text[]) AND s.last_seen_at > clock_timestamp() - ?::interval
					ON CONFLICT DO NOTHING
					RETURNING 1
				)
				SELECT pg_notify(?, '')
				WHERE (SELECT count(*) FROM handed) + (SELECT count(*) FROM failed WHERE attempts = 0) > 0
				""".formatted(schema.auditTable(), schema.deliveryTable(), schema.subscriberTable(), keyText);
		// on a connection in autocommit, one round trip and one transaction: the
		// statements before the driver's one sync message share the server's implicit
		// transaction, and with it the local settings
		this.markAlone = KEPT_PLAN_SETTINGS + ";\n" + this.markProcessed;
		// the failures of rows this transaction marked already (they hold its locks)
		this.failedAfterMark = """
				INSERT INTO %1$s (audit_id, subscriber, status, attempts, next_attempt_at, last_error, row_key)
				SELECT f.id, f.subscriber, f.status, f.attempts,
					clock_timestamp() + f.delay_ms * interval '1 millisecond', f.error,
					(SELECT %3$s FROM %2$s x WHERE x.id = f.id)
				FROM unnest(?::bigint[], ?::text[], ?::text[], ?::bigint[], ?::text[], ?::integer[])
					AS f(id, subscriber, status, delay_ms, error, attempts)
				ON CONFLICT (audit_id, subscriber) DO NOTHING
				""".formatted(schema.deliveryTable(), schema.auditTable(), keyText);
		// a transactional subscriber's delivery, in its own transaction: a new entry, or
		// one not delivered yet. Its row lock makes a concurrent delivery of the same
		// change wait, and then find it delivered; the server ends the transaction of a
		// process that stalls past the lease (as it ends a stalled relay's claim), so
		// that the wait ends and another instance delivers the change. The limit is set
		// where the entry is returned, the one case in which the subscriber is called:
		// a third less of the statement's time than a subquery for it
		this.deliveredInTransaction = """
				INSERT INTO %1$s AS d (audit_id, subscriber, status, attempts) VALUES (?, ?, '%2$s', 1)
				ON CONFLICT (audit_id, subscriber) DO UPDATE SET status = '%2$s', updated_at = clock_timestamp()
				WHERE d.status <> '%2$s'
				RETURNING set_config('idle_in_transaction_session_timeout', ?, true)
				""".formatted(schema.deliveryTable(), LedgerStatus.DELIVERED);
		// an entry whose lease token changed was claimed by another instance since: its
		// outcome is that one's to record
		this.finishedEntries = """
				UPDATE %1$s d SET status = f.status, attempts = d.attempts + 1,
					next_attempt_at = CASE WHEN f.status = '%2$s'
						THEN clock_timestamp() + f.delay_ms * interval '1 millisecond' ELSE d.next_attempt_at END,
					last_error = coalesce(f.error, d.last_error), lease_until = NULL, updated_at = clock_timestamp()
				FROM unnest(?::bigint[], ?::text[], ?::integer[], ?::text[], ?::bigint[], ?::text[])
					AS f(audit_id, subscriber, lease_token, status, delay_ms, error)
				WHERE d.audit_id = f.audit_id AND d.subscriber = f.subscriber AND d.lease_token = f.lease_token
				""".formatted(schema.deliveryTable(), LedgerStatus.PENDING);
	}

	/**
	 * Record the outcomes of claimed ledger entries, in one transaction.
	 * @param outcomes each entry, with the lease token of its claim, and how it ended
	 * @return how many were recorded: not those another instance has claimed since
	 */
	int finished(List<Finished> outcomes) {
		if (outcomes.isEmpty()) {
			return 0;
		}
		return this.transactions.write((status) -> this.jdbc.execute((Connection connection) -> {
			bookkeeping(connection, Duration.ZERO);
			try (PreparedStatement finish = connection.prepareStatement(this.finishedEntries)) {
				CustomPlanJdbc.customPlans(finish);
				finish.setArray(1, array(connection, "bigint", outcomes, (f) -> f.entry().auditId()));
				finish.setArray(2, array(connection, "text", outcomes, (f) -> f.entry().subscriber()));
				finish.setArray(3, array(connection, "integer", outcomes, (f) -> f.entry().leaseToken()));
				finish.setArray(4, array(connection, "text", outcomes, Finished::status));
				finish.setArray(5, array(connection, "bigint", outcomes,
						(f) -> (f.failure() != null) ? f.failure().delay().toMillis() : 0L));
				finish.setArray(6,
						array(connection, "text", outcomes, (f) -> (f.failure() != null) ? f.failure().error() : null));
				return finish.executeUpdate();
			}
		}));
	}

	private static java.sql.Array array(Connection connection, String type, List<Finished> outcomes,
			java.util.function.Function<Finished, @Nullable Object> value) throws SQLException {
		return connection.createArrayOf(type, outcomes.stream().map(value).toArray());
	}

	/**
	 * Prepare the transaction open on {@code connection} for bookkeeping, in one round
	 * trip: no waiting for its commit to be flushed to disk (a lost outcome only means a
	 * delivery is repeated), and plans that find the rows by primary key. Without hash
	 * and merge joins and bitmap scans, the marks look each row up by id; otherwise the
	 * planner, which takes the undispatched rows for few (they usually are, and a table
	 * never analyzed is assumed to have few), reads all of them through the pending index
	 * to hash them, so marking a batch costs in proportion to the backlog and a backlog
	 * drains in quadratic time (docs/performance.md).
	 * @param connection a connection in a transaction
	 * @param idleLimit how long the transaction may sit idle before the database ends it,
	 * or zero for the server's setting
	 * @throws SQLException when the database fails
	 */
	static void bookkeeping(Connection connection, Duration idleLimit) throws SQLException {
		try (PreparedStatement settings = connection.prepareStatement(
				SETTINGS + ", set_config('idle_in_transaction_session_timeout', coalesce(?, current_setting("
						+ "'idle_in_transaction_session_timeout')), true)")) {
			settings.setString(1, idleLimit.isZero() ? null : Long.toString(idleLimit.toMillis()));
			settings.execute();
		}
	}

	/**
	 * Record outcomes in the transaction open on {@code connection}: mark the rows
	 * processed that are not yet, record their failures, and hand them to the subscribers
	 * that other instances registered and this one lacks (and wake those instances when
	 * the transaction commits).
	 * @param connection a connection in a transaction
	 * @param batch the outcomes
	 * @throws SQLException when the database fails
	 */
	void record(Connection connection, List<Outcome> batch) throws SQLException {
		if (!batch.isEmpty()) {
			mark(connection, this.markProcessed, batch, true);
		}
	}

	/**
	 * Record outcomes in a transaction of their own, as {@link #record} does, with the
	 * settings of {@link #bookkeeping}, in one round trip: on a connection of the
	 * starter's, in autocommit.
	 * @param batch the outcomes
	 */
	void recordAlone(List<Outcome> batch) {
		if (batch.isEmpty()) {
			return;
		}
		this.keptPlans.execute((Connection connection) -> {
			mark(connection, this.markAlone, batch, false);
			return Boolean.TRUE;
		});
	}

	/**
	 * Run a marking statement: marks the rows, records failures, hands rows to the
	 * subscribers this instance lacks and, when it handed any, wakes the instances that
	 * have them (and the relays that deliver the waiting entries of ordered subscribers)
	 * when its transaction commits.
	 */
	private void mark(Connection connection, String statement, List<Outcome> batch, boolean customPlans)
			throws SQLException {
		try (PreparedStatement mark = connection.prepareStatement(statement)) {
			if (customPlans) {
				CustomPlanJdbc.customPlans(mark);
			}
			mark.setArray(1, connection.createArrayOf("bigint", batch.stream().map(Outcome::auditId).toArray()));
			setFailures(connection, mark, 2, batch);
			mark.setArray(8, connection.createArrayOf("text", this.localSubscribers));
			mark.setString(9, this.subscriberExpiry);
			mark.setString(10, this.channel);
			mark.execute();
		}
	}

	/**
	 * Record a transactional subscriber's delivery of a change in the subscriber's own
	 * transaction, so that it commits with the subscriber's writes or not at all.
	 * @param connection the connection of the subscriber's transaction
	 * @param auditId the change
	 * @param subscriber the subscriber
	 * @return whether to call the subscriber: false when a delivery of the change to it
	 * has committed already (a concurrent one is waited for)
	 * @throws SQLException when the database fails
	 */
	boolean recordDelivered(Connection connection, long auditId, String subscriber) throws SQLException {
		try (PreparedStatement insert = connection.prepareStatement(this.deliveredInTransaction)) {
			insert.setLong(1, auditId);
			insert.setString(2, subscriber);
			insert.setString(3, Long.toString(this.lease.toMillis()));
			try (ResultSet rs = insert.executeQuery()) {
				return rs.next();
			}
		}
	}

	/**
	 * Record failures of rows that {@link #record} marked in the same transaction (the
	 * forwarding routes' failures, known once the brokers answered).
	 * @param connection the connection of that transaction
	 * @param batch the rows' further failures
	 * @throws SQLException when the database fails
	 */
	void recordFailures(Connection connection, List<Outcome> batch) throws SQLException {
		if (batch.stream().allMatch((outcome) -> outcome.failures().isEmpty())) {
			return;
		}
		try (PreparedStatement insert = connection.prepareStatement(this.failedAfterMark)) {
			CustomPlanJdbc.customPlans(insert);
			setFailures(connection, insert, 1, batch);
			insert.executeUpdate();
		}
	}

	/**
	 * Set the six array parameters of the failures of some rows, from the given one:
	 * audit id, subscriber, status, delay, error and attempts.
	 */
	private static void setFailures(Connection connection, PreparedStatement statement, int first, List<Outcome> batch)
			throws SQLException {
		List<Object[]> failures = new ArrayList<>();
		for (Outcome outcome : batch) {
			for (DeliveryFailure failure : outcome.failures()) {
				failures.add(new Object[] { outcome.auditId(), failure.subscriber(),
						failure.dead() ? LedgerStatus.DEAD : LedgerStatus.PENDING, failure.delay().toMillis(),
						failure.waiting() ? null : failure.error(), failure.waiting() ? 0 : 1 });
			}
		}
		String[] types = { "bigint", "text", "text", "bigint", "text", "integer" };
		for (int column = 0; column < types.length; column++) {
			int c = column;
			statement.setArray(first + c,
					connection.createArrayOf(types[c], failures.stream().map((f) -> f[c]).toArray()));
		}
	}

	/**
	 * How the delivery of a claimed ledger entry ended.
	 *
	 * @param entry the entry
	 * @param failure why it failed, or {@code null} when it was delivered
	 */
	record Finished(ClaimedDelivery entry, @Nullable DeliveryFailure failure) {

		String status() {
			if (this.failure == null) {
				return LedgerStatus.DELIVERED;
			}
			return this.failure.dead() ? LedgerStatus.DEAD : LedgerStatus.PENDING;
		}

	}

	/**
	 * A ledger entry claimed for delivery.
	 *
	 * @param auditId the audit row
	 * @param subscriber the subscriber
	 * @param attempts the attempts made before this claim
	 * @param leaseToken the claim's token
	 */
	record ClaimedDelivery(long auditId, String subscriber, int attempts, int leaseToken) {
	}

	/**
	 * What became of one audit row's delivery to its local subscribers.
	 *
	 * @param auditId the audit row
	 * @param failures the subscribers that failed, empty when all succeeded
	 */
	record Outcome(long auditId, List<DeliveryFailure> failures) {
	}

}
