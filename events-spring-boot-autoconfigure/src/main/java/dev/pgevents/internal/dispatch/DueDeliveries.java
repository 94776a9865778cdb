package dev.pgevents.internal.dispatch;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.stream.Collectors;

import javax.sql.DataSource;

import org.jspecify.annotations.Nullable;

import dev.pgevents.internal.capture.AuditSchema;

import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Claims the ledger entries of this instance's subscribers that are due (retries,
 * replays, rows handed over by instances that lack the subscriber) and delivers them. An
 * entry is claimed under a lease and a new lease token, which fences out an earlier
 * claimer whose lease expired: only the holder of the current token records the outcome.
 * While the batch's calls run, {@link ClaimKeeper} renews the leases of the entries not
 * yet delivered, so that a slow call, or a batch that takes longer than the lease, is not
 * taken over and made twice.
 */
final class DueDeliveries {

	private static final Timestamp START = new Timestamp(0);

	private final JdbcTemplate jdbc;

	private final Subscriptions subscribers;

	private final FanOut fanOut;

	private final int batchSize;

	private final Duration lease;

	private final String claim;

	private final String selectRows;

	private final String renew;

	private final ClaimKeeper keeper;

	private final RowOrder order;

	/** Per ordered subscriber, the row key after which its next claim starts. */
	private final Map<String, String> cursors = new ConcurrentHashMap<>();

	/**
	 * Per unordered subscriber, the due time at which its next claim starts: the entries
	 * delivered before it leave dead index entries behind until a vacuum, which a claim
	 * from the start would read again each time (a backfill of 1,000,000 rows slowed to a
	 * crawl).
	 */
	private final Map<String, Timestamp> dueCursors = new ConcurrentHashMap<>();

	private final DeliveryLedger ledger;

	DueDeliveries(DataSource dataSource, AuditSchema schema, Subscriptions subscribers, FanOut fanOut,
			DeliveryLedger ledger, ClaimKeeper keeper, int batchSize, Duration lease, RowOrder order) {
		this.ledger = ledger;
		this.keeper = keeper;
		this.order = order;
		this.jdbc = new CustomPlanJdbc(dataSource);
		this.subscribers = subscribers;
		this.fanOut = fanOut;
		this.batchSize = batchSize;
		this.lease = lease;
		this.claim = """
				WITH due AS (
					SELECT audit_id, subscriber FROM %1$s
					WHERE status = '%2$s' AND subscriber = ? AND next_attempt_at >= ? AND next_attempt_at <= now()
						AND (lease_until IS NULL OR lease_until < clock_timestamp())
					ORDER BY next_attempt_at LIMIT ?
					FOR UPDATE SKIP LOCKED
				)
				UPDATE %1$s d SET lease_until = clock_timestamp() + ? * interval '1 millisecond',
					lease_token = d.lease_token + 1
				FROM due WHERE d.audit_id = due.audit_id AND d.subscriber = due.subscriber
				RETURNING d.audit_id, d.subscriber, d.attempts, d.lease_token, d.next_attempt_at
				""".formatted(schema.deliveryTable(), LedgerStatus.PENDING);
		this.selectRows = "SELECT " + AuditRow.COLUMNS + " FROM " + schema.auditTable() + " WHERE id = ANY (?)";
		this.renew = """
				UPDATE %1$s d SET lease_until = clock_timestamp() + ? * interval '1 millisecond'
				FROM unnest(?::bigint[], ?::text[], ?::integer[]) AS e(audit_id, subscriber, lease_token)
				WHERE d.audit_id = e.audit_id AND d.subscriber = e.subscriber AND d.lease_token = e.lease_token
				""".formatted(schema.deliveryTable());
	}

	/**
	 * Claim a batch of due entries, and deliver them in audit-row order. An ordered
	 * subscriber's entries are claimed one per row, the row's first, once nothing holds
	 * it back (see {@link RowOrder}).
	 * @param running whether the relay still runs (no further entry is begun otherwise:
	 * the others are taken again once their lease expires)
	 * @return the entries claimed, or the batch size when an ordered entry was claimed:
	 * the next of its row may be ready at once
	 */
	int relay(BooleanSupplier running) {
		List<String> ordered = this.order.subscribers();
		List<String> unordered = this.subscribers.names().stream().filter((name) -> !ordered.contains(name)).toList();
		List<DeliveryLedger.ClaimedDelivery> entries = new ArrayList<>();
		// one subscriber at a time: the due index then yields its entries in order, and
		// the claim reads a batch of them, not every pending entry to sort them
		for (String subscriber : unordered) {
			entries.addAll(claim(subscriber));
		}
		int claimedInOrder = 0;
		if (!ordered.isEmpty()) {
			this.jdbc.update(this.order.fillKeys(),
					(ps) -> ps.setArray(1, ps.getConnection().createArrayOf("text", ordered.toArray())));
			for (String subscriber : ordered) {
				List<DeliveryLedger.ClaimedDelivery> heads = claimInOrder(subscriber);
				claimedInOrder += heads.size();
				entries.addAll(heads);
			}
		}
		if (entries.isEmpty()) {
			return 0;
		}
		Long[] ids = entries.stream().map(DeliveryLedger.ClaimedDelivery::auditId).distinct().toArray(Long[]::new);
		Map<Long, AuditRow> rows = this.jdbc
			.query(this.selectRows, (ps) -> ps.setArray(1, ps.getConnection().createArrayOf("bigint", ids)),
					(rs, row) -> AuditRow.read(rs))
			.stream()
			.collect(Collectors.toMap(AuditRow::id, Function.identity()));
		// the leases of the entries delivered are kept until their outcomes are
		// recorded, all at once at the end of the batch
		Leases leases = new Leases(entries);
		this.keeper.keep(leases);
		List<DeliveryLedger.Finished> outcomes = new ArrayList<>(entries.size());
		List<CompletableFuture<DeliveryLedger.Finished>> sent = new ArrayList<>();
		BrokerSends.Forwarding forwarding = new BrokerSends.Forwarding();
		try {
			for (DeliveryLedger.ClaimedDelivery entry : entries.stream()
				.sorted(Comparator.comparingLong(DeliveryLedger.ClaimedDelivery::auditId))
				.toList()) {
				if (!running.getAsBoolean()) {
					break;
				}
				Forwarder forwarder = forwarderOf(entry.subscriber());
				if (forwarder != null) {
					// pipelined: a route's entries are one per row, so none waits for
					// another
					sent.add(this.fanOut.forward(entry, rows.get(entry.auditId()), forwarder, forwarding));
					continue;
				}
				outcomes.add(leases.call.run(
						"The retry of audit row " + entry.auditId() + " for subscriber '" + entry.subscriber() + "'",
						() -> this.fanOut.deliver(entry, rows.get(entry.auditId()))));
			}
			if (!sent.isEmpty()) {
				outcomes.addAll(leases.call
					.run("Waiting for the brokers to acknowledge " + sent.size() + " forwarded events", () -> {
						forwarding.flush();
						return sent.stream().map(CompletableFuture::join).toList();
					}));
			}
			this.ledger.finished(outcomes);
		}
		finally {
			forwarding.discard();
			this.keeper.release(leases);
		}
		return (claimedInOrder > 0) ? Math.max(this.batchSize, entries.size()) : entries.size();
	}

	/**
	 * Claim an ordered subscriber's entries from where its last batch ended, or from the
	 * start once a batch finds fewer than it could take.
	 */
	private List<DeliveryLedger.ClaimedDelivery> claimInOrder(String subscriber) {
		String[] last = { "" };
		List<DeliveryLedger.ClaimedDelivery> heads = this.jdbc.query(this.order.claim(), (rs, row) -> {
			last[0] = rs.getString(5);
			return new DeliveryLedger.ClaimedDelivery(rs.getLong(1), rs.getString(2), rs.getInt(3), rs.getInt(4));
		}, this.cursors.getOrDefault(subscriber, ""), subscriber, this.batchSize, this.lease.toMillis());
		// the greatest key claimed, as the database orders keys
		this.cursors.put(subscriber, (heads.size() < this.batchSize) ? "" : last[0]);
		return heads;
	}

	/**
	 * Claim an unordered subscriber's due entries from the due time where its last batch
	 * ended (the entries there that it claimed are leased, those delivered no longer
	 * pending), or from the start once a batch finds fewer than it could take: an entry
	 * left behind (its claimer's lease expired) is claimed then.
	 */
	private List<DeliveryLedger.ClaimedDelivery> claim(String subscriber) {
		Timestamp[] last = { START };
		List<DeliveryLedger.ClaimedDelivery> due = this.jdbc.query(this.claim, (rs, row) -> {
			Timestamp dueAt = rs.getTimestamp(5);
			if (dueAt.after(last[0])) {
				last[0] = dueAt;
			}
			return new DeliveryLedger.ClaimedDelivery(rs.getLong(1), rs.getString(2), rs.getInt(3), rs.getInt(4));
		}, subscriber, this.dueCursors.getOrDefault(subscriber, START), this.batchSize, this.lease.toMillis());
		this.dueCursors.put(subscriber, (due.size() < this.batchSize) ? START : last[0]);
		return due;
	}

	private @Nullable Forwarder forwarderOf(String name) {
		Subscriber subscriber = this.subscribers.named(name);
		return (subscriber != null) ? subscriber.forwarder() : null;
	}

	/**
	 * The leases of a claimed batch's entries not yet delivered.
	 */
	private final class Leases implements ClaimKeeper.KeptClaim {

		final Set<DeliveryLedger.ClaimedDelivery> held = ConcurrentHashMap.newKeySet();

		final CallInProgress call = new CallInProgress();

		private volatile long renewed = System.nanoTime();

		Leases(List<DeliveryLedger.ClaimedDelivery> entries) {
			this.held.addAll(entries);
		}

		@Override
		public void renewIfIdle(Duration idle) {
			if (System.nanoTime() - this.renewed < idle.toNanos()) {
				return;
			}
			List<DeliveryLedger.ClaimedDelivery> entries = List.copyOf(this.held);
			if (!entries.isEmpty()) {
				DueDeliveries.this.jdbc.execute((Connection connection) -> {
					try (PreparedStatement renew = connection.prepareStatement(DueDeliveries.this.renew)) {
						renew.setLong(1, DueDeliveries.this.lease.toMillis());
						renew.setArray(2, connection.createArrayOf("bigint",
								entries.stream().map(DeliveryLedger.ClaimedDelivery::auditId).toArray()));
						renew.setArray(3, connection.createArrayOf("text",
								entries.stream().map(DeliveryLedger.ClaimedDelivery::subscriber).toArray()));
						renew.setArray(4, connection.createArrayOf("integer",
								entries.stream().map(DeliveryLedger.ClaimedDelivery::leaseToken).toArray()));
						return renew.executeUpdate();
					}
				});
			}
			this.renewed = System.nanoTime();
		}

		@Override
		public @Nullable String longCall(Duration every) {
			return this.call.longCall(every);
		}

	}

}
