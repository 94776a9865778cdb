package dev.pgevents.internal.dispatch;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

import org.jspecify.annotations.Nullable;

/**
 * Audit rows the relay locked ({@code FOR UPDATE SKIP LOCKED}) in a transaction on a
 * connection of its own, until it commits the rows' outcomes or rolls back: whoever holds
 * a row's lock is the only one who may deliver it.
 * <p>
 * The transaction may sit idle for at most the lease: a process that stalls (a long
 * pause, a frozen host) loses its claim, and the rows go to other instances. While a
 * subscriber call runs, {@link ClaimKeeper} keeps the transaction busy on the delivering
 * thread's behalf. The connection is used by one thread at a time: each statement runs
 * under the claim's lock, the delivering thread's and the keeper's alike.
 */
final class Claim implements ClaimKeeper.KeptClaim, AutoCloseable {

	private final Connection connection;

	private final ClaimKeeper keeper;

	private final ReentrantLock lock = new ReentrantLock();

	private List<AuditRow> rows = List.of();

	private volatile long lastStatement = System.nanoTime();

	private final CallInProgress call = new CallInProgress();

	private volatile boolean closed;

	private Claim(Connection connection, ClaimKeeper keeper) {
		this.connection = connection;
		this.keeper = keeper;
	}

	/**
	 * Begin a transaction on {@code connection} and lock rows in it.
	 * @param connection the connection, closed with the claim
	 * @param keeper keeps the claim alive while subscribers run
	 * @param lease how long the transaction may sit idle before the database ends it
	 * @param lockRows locks and reads the rows, in id order
	 * @return the claim, which holds the rows until it is closed
	 * @throws SQLException when the database fails
	 */
	static Claim open(Connection connection, ClaimKeeper keeper, Duration lease, RowQuery lockRows)
			throws SQLException {
		Claim claim = new Claim(connection, keeper);
		try {
			connection.setAutoCommit(false);
			DeliveryLedger.bookkeeping(connection, lease);
			claim.rows = lockRows.rows(connection);
			claim.lastStatement = System.nanoTime();
		}
		catch (SQLException | RuntimeException ex) {
			claim.close();
			throw ex;
		}
		keeper.keep(claim);
		return claim;
	}

	List<AuditRow> rows() {
		return this.rows;
	}

	/**
	 * When the transaction last ran a statement ({@link System#nanoTime()}).
	 */
	long lastStatement() {
		return this.lastStatement;
	}

	/**
	 * Run a statement in the claim's transaction, on the delivering thread.
	 * @param statement what to run on the connection
	 * @throws SQLException when the database fails
	 */
	void run(ConnectionCallback statement) throws SQLException {
		this.lock.lock();
		try {
			statement.run(this.connection);
			this.lastStatement = System.nanoTime();
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * Run a query in the claim's transaction, on the delivering thread.
	 * @param query what to read on the connection
	 * @param <T> what it reads
	 * @return what it read
	 * @throws SQLException when the database fails
	 */
	<T> T query(ConnectionQuery<T> query) throws SQLException {
		this.lock.lock();
		try {
			T result = query.read(this.connection);
			this.lastStatement = System.nanoTime();
			return result;
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * Call subscribers while the claim is kept alive for the caller.
	 * @param what the call, for a warning when it runs long
	 * @param call the subscribers' calls
	 * @param <T> what the call returns
	 * @return what it returned
	 */
	<T> T calling(String what, Supplier<T> call) {
		return this.call.run(what, call);
	}

	@Override
	public @Nullable String longCall(Duration every) {
		return this.call.longCall(every);
	}

	/**
	 * Run a statement if the transaction has been idle for {@code idle} and the
	 * delivering thread is not using the connection; from the keeper's thread.
	 * @param idle how long the transaction may be idle before it is kept alive
	 * @throws SQLException when the database fails
	 */
	@Override
	public void renewIfIdle(Duration idle) throws SQLException {
		if (System.nanoTime() - this.lastStatement < idle.toNanos() || !this.lock.tryLock()) {
			return;
		}
		try {
			if (!this.closed) {
				try (Statement statement = this.connection.createStatement()) {
					statement.execute("SELECT 1");
				}
				this.lastStatement = System.nanoTime();
			}
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * Commit what was recorded in the claim's transaction, which releases the rows.
	 * @throws SQLException when the database fails, or ended the transaction
	 */
	void commit() throws SQLException {
		run(Connection::commit);
	}

	/**
	 * Release the claim: roll back what was not committed (its rows are claimed again,
	 * here or by another instance) and give the connection back.
	 */
	@Override
	public void close() {
		this.keeper.release(this);
		this.lock.lock();
		try {
			if (this.closed) {
				return;
			}
			this.closed = true;
			try {
				this.connection.rollback();
			}
			catch (SQLException ex) {
				// the connection is gone, and so is the transaction
			}
			try {
				this.connection.close();
			}
			catch (SQLException ex) {
				// closing a broken connection: the pool discards it
			}
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * Reads the rows a claim locks.
	 */
	@FunctionalInterface
	interface RowQuery {

		List<AuditRow> rows(Connection connection) throws SQLException;

	}

	/**
	 * A read on the claim's connection.
	 *
	 * @param <T> what it reads
	 */
	@FunctionalInterface
	interface ConnectionQuery<T> {

		T read(Connection connection) throws SQLException;

	}

	/**
	 * Work on the claim's connection.
	 */
	@FunctionalInterface
	interface ConnectionCallback {

		void run(Connection connection) throws SQLException;

	}

}
