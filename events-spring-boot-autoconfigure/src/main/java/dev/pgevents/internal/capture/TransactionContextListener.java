package dev.pgevents.internal.capture;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Collection;
import java.util.UUID;

import javax.sql.DataSource;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import dev.pgevents.IdentityResolver;
import dev.pgevents.TraceSource;

import org.springframework.jdbc.datasource.ConnectionHolder;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionExecution;
import org.springframework.transaction.TransactionExecutionListener;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Gives every read-write transaction on the application's database its capture context
 * (see {@link DeferredContext}), sent just before the transaction's first statement that
 * may write an audited table: a transaction that writes none pays nothing. After commit
 * it hands the scope of a transaction that sent its context to {@link CommittedScopes}.
 * <p>
 * One listener is attached to each transaction manager, so it knows which manager to
 * suspend when it dispatches after commit.
 */
public final class TransactionContextListener implements TransactionExecutionListener {

	private static final Log logger = LogFactory.getLog(TransactionContextListener.class);

	private final DataSource dataSource;

	private final IdentityResolver identities;

	private final TraceSource traces;

	private final PlatformTransactionManager transactionManager;

	private final @Nullable CommittedScopes committedScopes;

	private final AuditedStatements statements;

	private final ThrottledLog failures = new ThrottledLog(logger, Duration.ofSeconds(10));

	/**
	 * Create a listener for one transaction manager.
	 * @param dataSource the audited database
	 * @param identities resolves who is writing
	 * @param traces supplies the trace
	 * @param transactionManager the manager the listener is attached to
	 * @param committedScopes told after commit, or {@code null} when nothing is
	 * dispatched
	 * @param auditedTables the audited tables: a transaction's context waits for a
	 * statement that names one (where the connection can wait, see
	 * {@link ContextConnections})
	 */
	public TransactionContextListener(DataSource dataSource, IdentityResolver identities, TraceSource traces,
			PlatformTransactionManager transactionManager, @Nullable CommittedScopes committedScopes,
			Collection<AuditedTable> auditedTables) {
		this.dataSource = dataSource;
		this.identities = identities;
		this.traces = traces;
		this.transactionManager = transactionManager;
		this.committedScopes = committedScopes;
		this.statements = AuditedStatements.naming(auditedTables);
	}

	/**
	 * Sets the capture context of a transaction that has just begun.
	 * <p>
	 * The rule for this and every other hook in the application's transactions: it never
	 * throws. The transaction manager calls it after binding the transaction's connection
	 * to the thread and before the caller holds a status to roll back with; an exception
	 * here would leave that connection bound, and every later transaction of the thread
	 * would join the dead one. A failure costs this transaction its context (its rows go
	 * to the relays, without identity or trace), never the application its thread.
	 */
	@Override
	public void afterBegin(TransactionExecution transaction, @Nullable Throwable beginFailure) {
		if (beginFailure != null || !transaction.isNewTransaction() || transaction.isReadOnly()
				|| !(TransactionSynchronizationManager
					.getResource(this.dataSource) instanceof ConnectionHolder holder)) {
			return; // failed, joined, read-only, or a transaction on another database
		}
		try {
			// dispatched after commit only where it can be: its rows are then the
			// dispatcher's alone while it runs
			CommittedScopes committedScopes = TransactionSynchronizationManager.isSynchronizationActive()
					? this.committedScopes : null;
			DeferredContext context = new DeferredContext(
					(committedScopes != null) ? (scope) -> dispatchAfterCommit(scope, committedScopes) : null,
					(committedScopes != null) ? committedScopes::newScope : UUID::randomUUID, this.identities,
					this.traces, this.statements, this.failures);
			Connection connection = holder.getConnection();
			if (connection instanceof ContextConnections.Deferring deferring) {
				deferring.defer(context);
			}
			else if (!context.send(connection)) {
				rollbackContext(connection);
			}
		}
		catch (RuntimeException | LinkageError ex) {
			this.failures.warn("Cannot prepare the capture context of a transaction; its changes go to the relays, "
					+ "without identity or trace", ex);
		}
	}

	/**
	 * Called, in the transaction's thread, when its context is first sent: from then on
	 * it may have rows of its own to dispatch.
	 */
	private void dispatchAfterCommit(UUID scope, CommittedScopes committedScopes) {
		if (TransactionSynchronizationManager.isSynchronizationActive()) {
			TransactionSynchronizationManager.registerSynchronization(new AfterCommit(scope, committedScopes));
		}
		else {
			committedScopes.abandoned(scope);
		}
	}

	/**
	 * A failed statement aborts the database transaction. Sent at once, the context's
	 * round trip is the transaction's first, so rolling it back leaves the application's
	 * transaction as it would be without this listener. On a broken connection that fails
	 * too, as the application's first statement will.
	 */
	private static void rollbackContext(Connection connection) {
		try {
			connection.rollback();
		}
		catch (SQLException | RuntimeException ex) {
			// the connection is gone: so is the transaction, and the application finds
			// out
		}
	}

	private final class AfterCommit implements TransactionSynchronization {

		private final UUID scope;

		private final CommittedScopes committedScopes;

		private boolean dispatched;

		AfterCommit(UUID scope, CommittedScopes committedScopes) {
			this.scope = scope;
			this.committedScopes = committedScopes;
		}

		@Override
		public void afterCommit() {
			// never throws (see afterBegin): the caller's transaction has committed, and
			// an exception here would reach it as if it had not; the relay picks the rows
			// up
			try {
				if (TransactionSynchronizationManager
					.getResource(TransactionContextListener.this.dataSource) instanceof ConnectionHolder holder) {
					this.dispatched = true;
					this.committedScopes.committed(this.scope, TransactionContextListener.this.transactionManager,
							holder.getConnection());
				}
			}
			catch (RuntimeException | Error ex) {
				this.dispatched = false; // left to the relays in afterCompletion
				TransactionContextListener.this.failures
					.warn("Dispatch after commit failed; the relay will deliver the events of scope " + this.scope, ex);
			}
		}

		/**
		 * Always called, unlike {@link #afterCommit()}, which an earlier synchronization
		 * that throws skips: a committed transaction that was not dispatched is left to
		 * the relays.
		 */
		@Override
		public void afterCompletion(int status) {
			if (status != STATUS_ROLLED_BACK && !this.dispatched) {
				try {
					this.committedScopes.abandoned(this.scope);
				}
				catch (RuntimeException ex) {
					TransactionContextListener.this.failures.warn("Cannot leave scope " + this.scope + " to the relay",
							ex);
				}
			}
		}

		@Override
		public int getOrder() {
			return LOWEST_PRECEDENCE;
		}

	}

}
