package dev.pgevents.internal.capture;

import java.sql.Connection;
import java.sql.SQLException;

import javax.sql.DataSource;

import org.postgresql.core.BaseConnection;
import org.postgresql.core.TransactionState;

import org.springframework.jdbc.datasource.ConnectionHolder;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.DelegatingDataSource;
import org.springframework.transaction.support.TransactionCallback;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The starter's own work on the audited database runs on connections of its own, in
 * transactions of its own: it never uses, commits, rolls back or switches the autocommit
 * mode of a connection that an application transaction holds, whatever is bound to the
 * calling thread (a JDBC, JPA or test-managed transaction of any manager, begun, nested
 * or suspended).
 * <p>
 * Spring finds a thread's transactional connection by the DataSource it came from. The
 * starter's connections come from {@link #dataSource()}, a view of the audited DataSource
 * that no application transaction manager knows: no application transaction lends it a
 * connection, and its transactions never take one over. (A JPA transaction binds its
 * connection without marking a JDBC transaction active; a
 * {@link DataSourceTransactionManager} of the application's own DataSource, begun inside
 * it, would take that connection over and commit the JPA transaction's work.) Its
 * transactions suspend the caller's synchronizations while they run, so nothing of theirs
 * is bound to the caller's transaction.
 * <p>
 * The one connection of an application's that the starter touches is a committed
 * transaction's, after its commit, to read that transaction's rows: only once the driver
 * reports no transaction open on it ({@link #hasEnded}).
 * <p>
 * Outside its transactions, the starter's statements commit as they run, also where the
 * pool hands out connections in manual-commit mode (Hikari's {@code auto-commit=false},
 * common in JPA applications): uncommitted, the pool would roll them back.
 */
public final class OwnTransactions {

	private final DataSource dataSource;

	private final TransactionTemplate writes;

	private final TransactionTemplate reads;

	/**
	 * Create the starter's transactions on the audited database.
	 * @param audited the application's audited DataSource
	 */
	public OwnTransactions(DataSource audited) {
		this.dataSource = new AutoCommitting(audited);
		DataSourceTransactionManager manager = new DataSourceTransactionManager(this.dataSource);
		this.writes = new TransactionTemplate(manager);
		this.reads = new TransactionTemplate(manager);
		this.reads.setReadOnly(true);
	}

	/**
	 * The DataSource for the starter's own JDBC access: inside {@link #write} or
	 * {@link #read}, the connection of that transaction; outside, a connection of the
	 * pool (for the starter's own threads, which run no application transaction).
	 * @return the starter's view of the audited DataSource
	 */
	public DataSource dataSource() {
		return this.dataSource;
	}

	/**
	 * Run work in a transaction of the starter's own, committed when it returns, or join
	 * the starter's transaction already running in this thread.
	 * @param <T> what the work returns
	 * @param work the work, whose JDBC access goes through {@link #dataSource()}
	 * @return what it returned
	 */
	public <T> T write(TransactionCallback<T> work) {
		return require(this.writes.execute(work));
	}

	/**
	 * Run reads in a read-only transaction of the starter's own: from inside an
	 * application transaction, they see what has committed, never its uncommitted writes.
	 * @param <T> what the work returns
	 * @param work the reads, whose JDBC access goes through {@link #dataSource()}
	 * @return what they returned
	 */
	public <T> T read(TransactionCallback<T> work) {
		return require(this.reads.execute(work));
	}

	private static <T> T require(T result) {
		if (result == null) {
			throw new IllegalStateException("A transaction of the events starter returned nothing");
		}
		return result;
	}

	/**
	 * Whether no transaction is open on a connection, as its driver knows without asking
	 * the server: the only state in which the starter may use a connection of the
	 * application's.
	 * @param connection a connection of the audited database
	 * @return {@code true} when idle; {@code false} when a transaction is open or failed,
	 * or the state is unknown
	 */
	public static boolean hasEnded(Connection connection) {
		return state(connection) == TransactionState.IDLE;
	}

	/**
	 * Whether the transaction open on a connection has failed: a statement aborted it,
	 * and it can only be rolled back.
	 * @param connection a connection of the audited database
	 * @return {@code true} when failed
	 */
	static boolean hasFailed(Connection connection) {
		return state(connection) == TransactionState.FAILED;
	}

	private static TransactionState state(Connection connection) {
		try {
			return connection.isWrapperFor(BaseConnection.class)
					? connection.unwrap(BaseConnection.class).getTransactionState() : TransactionState.OPEN;
		}
		catch (SQLException | RuntimeException ex) {
			return TransactionState.OPEN;
		}
	}

	/**
	 * A view of the audited DataSource whose connections start in autocommit, whatever
	 * the pool's default. Switching sends nothing to the server (no transaction is open
	 * on a connection the pool hands out), and the pool restores its default when the
	 * connection comes back; the starter's transaction manager switches it off for its
	 * transactions and back.
	 */
	private static final class AutoCommitting extends DelegatingDataSource {

		AutoCommitting(DataSource audited) {
			super(audited);
		}

		@Override
		public Connection getConnection() throws SQLException {
			return autoCommitting(super.getConnection());
		}

		@Override
		public Connection getConnection(String username, String password) throws SQLException {
			return autoCommitting(super.getConnection(username, password));
		}

		private static Connection autoCommitting(Connection connection) throws SQLException {
			try {
				if (!connection.getAutoCommit() && !heldByTransaction(connection)) {
					connection.setAutoCommit(true);
				}
				return connection;
			}
			catch (SQLException | RuntimeException ex) {
				try {
					connection.close();
				}
				catch (SQLException close) {
					ex.addSuppressed(close);
				}
				throw ex;
			}
		}

		/**
		 * Whether a transaction bound to this thread holds the same connection: a
		 * DataSource that hands out the calling thread's transactional connection (a
		 * {@code TransactionAwareDataSourceProxy}) must not have its mode switched, which
		 * would commit that transaction's work.
		 */
		private static boolean heldByTransaction(Connection connection) throws SQLException {
			Connection physical = connection.unwrap(BaseConnection.class);
			for (Object resource : TransactionSynchronizationManager.getResourceMap().values()) {
				if (resource instanceof ConnectionHolder holder && holder.getConnectionHandle() != null
						&& holder.getConnection().unwrap(BaseConnection.class) == physical) {
					return true;
				}
			}
			return false;
		}

	}

}
