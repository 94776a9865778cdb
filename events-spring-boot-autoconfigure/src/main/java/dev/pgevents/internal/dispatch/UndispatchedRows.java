package dev.pgevents.internal.dispatch;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;

import javax.sql.DataSource;

import org.jspecify.annotations.Nullable;

import dev.pgevents.internal.capture.AuditSchema;

/**
 * Claims the audit rows that no after-commit dispatch handles, delivers them, and records
 * their outcomes, all in one transaction, whose row locks are the claim: rows written
 * outside a dispatching application (no scope), and rows a dispatcher left undispatched
 * for longer than the lease (its process died).
 * <p>
 * The claim may sit idle for no longer than the lease: if the relay stalls (a long pause,
 * a hung subscriber), the database ends the transaction, which releases the rows to other
 * instances and discards whatever the stalled relay would record. While a backlog drains,
 * the next batch is claimed on another connection as this one is delivered, so that the
 * database locks and reads it while the subscribers run; batches are still delivered one
 * after the other, in id order.
 */
final class UndispatchedRows {

	private final DataSource dataSource;

	private final SendEvents sendEvents;

	private final int batchSize;

	private final Duration lease;

	private final String claimRows;

	private volatile long claimedUpTo;

	/** Claims the next batch while a backlog's current one is delivered. */
	private volatile @Nullable ExecutorService claimer;

	private volatile @Nullable CompletableFuture<Claim> nextClaim;

	/**
	 * How long the last batch took to deliver and record, in nanoseconds; none yet: max.
	 */
	private long lastDelivery = Long.MAX_VALUE;

	UndispatchedRows(DataSource dataSource, AuditSchema schema, SendEvents sendEvents, int batchSize, Duration lease) {
		this.dataSource = dataSource;
		this.sendEvents = sendEvents;
		this.batchSize = batchSize;
		this.lease = lease;
		// two kinds of claimable rows, each found in id order through the pending index:
		// those no local dispatcher handles (no scope), and those a dispatcher left
		// behind
		// for longer than the lease (few: the index holds only undispatched rows)
		this.claimRows = """
				WITH outside AS (
					SELECT %2$s FROM %1$s
					WHERE event_processed_at IS NULL AND scope_id IS NULL AND id > ?
					ORDER BY scope_id, id LIMIT ?
					FOR UPDATE SKIP LOCKED
				), abandoned AS (
					SELECT %2$s FROM %1$s
					WHERE event_processed_at IS NULL AND scope_id IS NOT NULL
						AND created_at < clock_timestamp() - ? * interval '1 millisecond'
					ORDER BY id LIMIT ?
					FOR UPDATE SKIP LOCKED
				)
				SELECT * FROM outside UNION ALL SELECT * FROM abandoned
				""".formatted(schema.auditTable(), AuditRow.COLUMNS);
	}

	void start() {
		this.claimer = Executors.newSingleThreadExecutor((task) -> {
			Thread claimer = new Thread(task, "events-relay-claim");
			claimer.setDaemon(true);
			return claimer;
		});
	}

	void stop() {
		ExecutorService claimer = this.claimer;
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
		abandon(this.nextClaim);
		this.nextClaim = null;
	}

	/**
	 * Claim a batch, deliver it and record its outcomes in the claiming transaction.
	 * @param running whether the relay still runs (no batch is claimed ahead otherwise)
	 * @return the rows claimed
	 * @throws SQLException when the database fails, or ended the claim
	 */
	int relay(BooleanSupplier running) throws SQLException {
		Claim claim = prefetched();
		if (claim == null) {
			claim = claim();
		}
		// a connection of its own, not bound to this thread: subscribers run in
		// transactions of their own
		try (Connection connection = claim.connection()) {
			try {
				List<AuditRow> rows = claim.rows();
				Executor claimer = this.claimer;
				// the next batch waits while this one is delivered: only when the last
				// one
				// took well within the time a claim may wait (see prefetched())
				if (rows.size() == this.batchSize && claimer != null && running.getAsBoolean()
						&& this.lastDelivery < recordEvery().toNanos() / 2) {
					this.nextClaim = CompletableFuture.supplyAsync(this::claimUnchecked, claimer);
				}
				long start = System.nanoTime();
				if (!rows.isEmpty()) {
					this.sendEvents.deliverClaimed(rows, connection, recordEvery(), claim.lastStatement());
				}
				connection.commit();
				this.lastDelivery = System.nanoTime() - start;
				return rows.size();
			}
			catch (SQLException | RuntimeException ex) {
				rollbackQuietly(connection);
				this.lastDelivery = Long.MAX_VALUE;
				if (System.nanoTime() - claim.lastStatement() > this.lease.toNanos()) {
					throw new SQLException("The relay's claim outlived events.relay.lease (a subscriber call took "
							+ "longer than the lease, or the process stalled) and the database ended it; its rows "
							+ "are delivered again", ex);
				}
				throw ex;
			}
		}
	}

	/**
	 * Lock the next batch of claimable rows in a transaction left open on a connection of
	 * its own.
	 */
	private Claim claim() throws SQLException {
		Connection connection = this.dataSource.getConnection();
		try {
			connection.setAutoCommit(false);
			List<AuditRow> rows = new ArrayList<>(this.batchSize);
			DeliveryLedger.bookkeeping(connection, this.lease);
			try (PreparedStatement claim = connection.prepareStatement(this.claimRows)) {
				AuditJdbc.customPlans(claim);
				claim.setLong(1, this.claimedUpTo);
				claim.setInt(2, this.batchSize);
				claim.setLong(3, this.lease.toMillis());
				claim.setInt(4, this.batchSize);
				try (ResultSet rs = claim.executeQuery()) {
					while (rs.next()) {
						rows.add(AuditRow.read(rs));
					}
				}
			}
			long claimed = System.nanoTime();
			rows.sort(Comparator.comparingLong(AuditRow::id));
			// While a backlog drains, the next claim starts past this one: the rows just
			// marked leave dead entries in the pending index until vacuum, and scanning
			// over them again would cost more with every batch. A short batch means the
			// backlog is drained (or what remains is locked, or was passed over): start
			// from the beginning again.
			this.claimedUpTo = (rows.size() < this.batchSize) ? 0 : rows.get(rows.size() - 1).id();
			return new Claim(connection, rows, claimed);
		}
		catch (SQLException | RuntimeException ex) {
			release(connection);
			throw ex;
		}
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
	 * The batch claimed while the previous one was delivered, if any, and if it has not
	 * waited so long that the database may end its transaction before its first outcomes
	 * are recorded (then it is released, and claimed again).
	 */
	private @Nullable Claim prefetched() throws SQLException {
		CompletableFuture<Claim> next = this.nextClaim;
		if (next == null) {
			return null;
		}
		this.nextClaim = null;
		Claim claim;
		try {
			claim = next.get();
		}
		catch (InterruptedException ex) {
			abandon(next);
			Thread.currentThread().interrupt();
			throw new SQLException("Interrupted while claiming rows", ex);
		}
		catch (ExecutionException ex) {
			if (ex.getCause() instanceof SQLException failure) {
				throw failure;
			}
			throw (ex.getCause() instanceof RuntimeException failure) ? failure : new IllegalStateException(ex);
		}
		if (System.nanoTime() - claim.lastStatement() > recordEvery().toNanos()) {
			release(claim.connection());
			if (!claim.rows().isEmpty()) {
				// claimed again next, in order
				this.claimedUpTo = Math.min(this.claimedUpTo, claim.rows().get(0).id() - 1);
			}
			return null;
		}
		return claim;
	}

	/**
	 * Outcomes are recorded at least this often while subscribers run: a claim idle for
	 * the lease ends.
	 */
	private Duration recordEvery() {
		return this.lease.dividedBy(3);
	}

	private static void abandon(@Nullable CompletableFuture<Claim> claim) {
		if (claim != null) {
			claim.thenAccept((abandoned) -> release(abandoned.connection()));
		}
	}

	private static void release(Connection connection) {
		rollbackQuietly(connection);
		try {
			connection.close();
		}
		catch (SQLException ex) {
			// closing a broken connection: the pool discards it
		}
	}

	private static void rollbackQuietly(Connection connection) {
		try {
			connection.rollback();
		}
		catch (SQLException ex) {
			// the connection is gone: so is its transaction
		}
	}

	/**
	 * Rows locked by the transaction open on a connection.
	 *
	 * @param connection holds the rows' locks until it commits or rolls back
	 * @param rows the rows, in id order
	 * @param lastStatement when the transaction last ran a statement (System.nanoTime()):
	 * the database ends it once it has been idle for the lease
	 */
	private record Claim(Connection connection, List<AuditRow> rows, long lastStatement) {
	}

}
