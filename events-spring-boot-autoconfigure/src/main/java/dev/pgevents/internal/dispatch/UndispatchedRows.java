package dev.pgevents.internal.dispatch;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.function.BooleanSupplier;

import javax.sql.DataSource;

import org.jspecify.annotations.Nullable;

import dev.pgevents.internal.capture.AuditSchema;

import org.springframework.scheduling.concurrent.ThreadPoolTaskExecutor;

/**
 * Claims the audit rows that no after-commit dispatch handles, delivers them, and records
 * their outcomes, all in one transaction, whose row locks are the claim ({@link Claim}):
 * rows written outside a dispatching application (no scope), and rows a dispatcher left
 * undispatched for longer than the lease (its process died, or its queue was full).
 * <p>
 * While a backlog drains, the next batch is claimed on another connection as this one is
 * delivered, so that the database locks and reads it while the subscribers run; batches
 * are still delivered one after the other, in id order.
 */
final class UndispatchedRows {

	private final DataSource dataSource;

	private final FanOut fanOut;

	private final ClaimKeeper keeper;

	private final InstanceHold instance;

	private final int batchSize;

	private final Duration lease;

	private final String claimRows;

	private volatile long claimedUpTo;

	/** Claims the next batch while a backlog's current one is delivered. */
	private volatile @Nullable ThreadPoolTaskExecutor claimer;

	private final EngineThreads threads;

	private volatile @Nullable CompletableFuture<Claim> nextClaim;

	UndispatchedRows(DataSource dataSource, AuditSchema schema, FanOut fanOut, ClaimKeeper keeper,
			InstanceHold instance, int batchSize, Duration lease, EngineThreads threads) {
		this.threads = threads;
		this.instance = instance;
		this.dataSource = dataSource;
		this.fanOut = fanOut;
		this.keeper = keeper;
		this.batchSize = batchSize;
		this.lease = lease;
		// two kinds of claimable rows: those no local dispatcher handles (no scope), in
		// id order through the pending index; and those a dispatcher left behind, older
		// than the lease: given up by this instance, or written by one that is gone (no
		// fresh row; also the scopes of versions before instances were recorded). A scope
		// starts with its instance's 8-byte id, so the pending index holds each
		// instance's rows together: the search steps from one instance to the next (one
		// index probe each) and reads only the rows of those that are gone. Filtering
		// every pending row instead would read, on every claim, all the rows that a
		// running instance still holds.
		this.claimRows = """
				WITH RECURSIVE outside AS (
					SELECT %2$s FROM %1$s
					WHERE event_processed_at IS NULL AND scope_id IS NULL AND id > ?
					ORDER BY scope_id, id LIMIT ?
					FOR UPDATE SKIP LOCKED
				), holders (holder) AS (
					(SELECT substring(uuid_send(scope_id) FROM 1 FOR 8) FROM %1$s
						WHERE event_processed_at IS NULL AND scope_id IS NOT NULL ORDER BY scope_id LIMIT 1)
					UNION ALL
					SELECT (SELECT substring(uuid_send(a.scope_id) FROM 1 FOR 8) FROM %1$s a
						WHERE a.event_processed_at IS NULL AND a.scope_id > %4$s
						ORDER BY a.scope_id LIMIT 1)
					FROM holders h WHERE h.holder IS NOT NULL
				), gone AS (
					SELECT h.holder FROM holders h
					WHERE h.holder IS NOT NULL AND ((? AND h.holder = ?)
						OR NOT EXISTS (SELECT FROM %3$s i WHERE i.id = h.holder
							AND i.last_seen_at > clock_timestamp() - ? * interval '1 millisecond'))
				), abandoned AS (
					SELECT * FROM (SELECT %2$s FROM %1$s
						WHERE ? AND event_processed_at IS NULL AND scope_id = ANY (?::uuid[])
							AND created_at < clock_timestamp() - ? * interval '1 millisecond'
						FOR UPDATE SKIP LOCKED) given_up
					UNION ALL
					SELECT r.* FROM gone g CROSS JOIN LATERAL (SELECT %2$s FROM %1$s a
						WHERE a.event_processed_at IS NULL AND a.scope_id BETWEEN %5$s AND %6$s
							AND a.scope_id <> ALL (?::uuid[])
							AND a.created_at < clock_timestamp() - ? * interval '1 millisecond'
						ORDER BY a.scope_id, a.id LIMIT ?
						FOR UPDATE SKIP LOCKED) r
					LIMIT ?
				)
				SELECT * FROM outside UNION ALL SELECT * FROM abandoned
				""".formatted(schema.auditTable(), AuditRow.COLUMNS, schema.instanceTable(), lastScope("h.holder"),
				firstScope("g.holder"), lastScope("g.holder"));
	}

	/** The first scope an instance can issue, from its id (an SQL expression). */
	private static String firstScope(String instanceId) {
		return "encode(" + instanceId + " || '\\x0000000000000000'::bytea, 'hex')::uuid";
	}

	/** The last scope an instance can issue, from its id (an SQL expression). */
	private static String lastScope(String instanceId) {
		return "encode(" + instanceId + " || '\\xffffffffffffffff'::bytea, 'hex')::uuid";
	}

	void start() {
		// its shutdown lets a claim begun finish, so that abandonNext releases it
		this.claimer = this.threads.pool("events-relay-claim-", 1, Integer.MAX_VALUE, true);
	}

	void stop() {
		ThreadPoolTaskExecutor claimer = this.claimer;
		this.claimer = null;
		abandonNext();
		if (claimer != null) {
			claimer.shutdown();
		}
	}

	/**
	 * Release the batch claimed ahead, if any (the relay stops, or its loop ended).
	 */
	void abandonNext() {
		CompletableFuture<Claim> next = this.nextClaim;
		this.nextClaim = null;
		if (next != null) {
			next.thenAccept(Claim::close);
		}
	}

	/**
	 * Claim a batch, deliver it and record its outcomes in the claiming transaction.
	 * @param running whether the relay still runs (no batch is claimed ahead, and no
	 * further row delivered, otherwise)
	 * @return the rows claimed
	 * @throws SQLException when the database fails, or ended the claim
	 */
	int relay(BooleanSupplier running) throws SQLException {
		Claim claim = prefetched();
		if (claim == null) {
			claim = claim();
		}
		int rows;
		try (Claim claimed = claim) {
			rows = claimed.rows().size();
			Executor claimer = this.claimer;
			if (rows == this.batchSize && claimer != null && running.getAsBoolean()) {
				this.nextClaim = CompletableFuture.supplyAsync(this::claimUnchecked, claimer);
			}
			if (rows > 0) {
				this.fanOut.deliver(claimed, running);
			}
		}
		catch (SQLException | RuntimeException ex) {
			if (System.nanoTime() - claim.lastStatement() > this.lease.toNanos()) {
				throw new SQLException("The relay's claim was idle for longer than events.relay.lease (the process "
						+ "stalled) and the database ended it; its rows are delivered again", ex);
			}
			throw ex;
		}
		// once the claim's connection is back: never wait for a second one while holding
		// it
		this.instance.prune();
		return rows;
	}

	/**
	 * Lock the next batch of claimable rows in a transaction left open on a connection of
	 * its own (not bound to this thread: subscribers run in transactions of their own).
	 */
	private Claim claim() throws SQLException {
		Claim claim = Claim.open(this.dataSource.getConnection(), this.keeper, this.lease, this::lockRows);
		List<AuditRow> rows = claim.rows();
		// While a backlog drains, the next claim starts past this one: the rows just
		// marked leave dead entries in the pending index until vacuum, and scanning over
		// them again would cost more with every batch. A short batch means the backlog is
		// drained (or what remains is locked, or was passed over): start from the
		// beginning again.
		this.claimedUpTo = (rows.size() < this.batchSize) ? 0 : rows.get(rows.size() - 1).id();
		return claim;
	}

	private List<AuditRow> lockRows(Connection connection) throws SQLException {
		List<AuditRow> rows = new ArrayList<>(this.batchSize);
		try (PreparedStatement claim = connection.prepareStatement(this.claimRows)) {
			CustomPlanJdbc.customPlans(claim);
			claim.setLong(1, this.claimedUpTo);
			claim.setInt(2, this.batchSize);
			claim.setBoolean(3, this.instance.gaveUpAll());
			claim.setBytes(4, this.instance.key());
			claim.setLong(5, InstanceHold.expiry(this.lease).toMillis());
			List<UUID> scopes = this.instance.givenUp();
			Array givenUp = connection.createArrayOf("uuid", scopes.toArray());
			// none given up: the planner takes "= ANY" of an empty array for false, which
			// implies every partial index's predicate, and would read a whole index of
			// undispatched rows (an ordered table's, by key) for nothing
			claim.setBoolean(6, !scopes.isEmpty());
			claim.setArray(7, givenUp);
			claim.setLong(8, this.lease.toMillis());
			claim.setArray(9, givenUp);
			claim.setLong(10, this.lease.toMillis());
			claim.setInt(11, this.batchSize);
			claim.setInt(12, this.batchSize);
			try (ResultSet rs = claim.executeQuery()) {
				while (rs.next()) {
					rows.add(AuditRow.read(rs));
				}
			}
		}
		rows.sort(Comparator.comparingLong(AuditRow::id));
		return rows;
	}

	private Claim claimUnchecked() {
		try {
			return claim();
		}
		catch (SQLException ex) {
			throw new CompletionException(ex);
		}
	}

	/**
	 * The batch claimed while the previous one was delivered, if any.
	 */
	private @Nullable Claim prefetched() throws SQLException {
		CompletableFuture<Claim> next = this.nextClaim;
		if (next == null) {
			return null;
		}
		this.nextClaim = null;
		try {
			return next.get();
		}
		catch (InterruptedException ex) {
			next.thenAccept(Claim::close);
			Thread.currentThread().interrupt();
			throw new SQLException("Interrupted while claiming rows", ex);
		}
		catch (ExecutionException ex) {
			if (ex.getCause() instanceof SQLException failure) {
				throw failure;
			}
			throw (ex.getCause() instanceof RuntimeException failure) ? failure : new IllegalStateException(ex);
		}
	}

}
