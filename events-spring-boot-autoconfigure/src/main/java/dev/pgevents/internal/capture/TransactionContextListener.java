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
import dev.pgevents.internal.support.ThrottledLog;

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
 * it hands the scope of a transaction that sent its context to {@link ScopeDispatcher}.
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

	private final @Nullable ScopeDispatcher committedScopes;

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
			PlatformTransactionManager transactionManager, @Nullable ScopeDispatcher committedScopes,
			Collection<AuditedTable> auditedTables) {
		this.dataSource = dataSource;
		this.identities = identities;
		this.traces = traces;
		this.transactionManager = transactionManager;
		this.committedScopes = committedScopes;
		this.statements = AuditedStatements.naming(auditedTables);
	}

	/**
	 * Sets the capture context of a transaction that has just begun, and ties its
	 * dispatch to that transaction: the synchronization is registered now, while the
	 * transaction's own synchronizations are the thread's. Registered later, at the first
	 * audited write, it would join whichever transaction's synchronizations are active
	 * then: inside a transaction of another manager that suspended this one's, it would
	 * run when that one commits, while this one has not ended.
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
			ScopeDispatcher committedScopes = TransactionSynchronizationManager.isSynchronizationActive()
					? this.committedScopes : null;
			DeferredContext context = new DeferredContext((committedScopes != null) ? committedScopes::newScope : null,
					this.identities, this.traces, this.statements, this.failures);
			if (committedScopes != null) {
				TransactionSynchronizationManager
					.registerSynchronization(new AfterCommit(context, holder, committedScopes));
			}
			Connection connection = holder.getConnection();
			if (connection instanceof ContextConnections.Deferring deferring) {
				deferring.defer(context);
			}
			else if (!context.send(connection, false)) {
				rollbackContext(connection);
			}
		}
		catch (RuntimeException | LinkageError ex) {
			this.failures.warn("Cannot prepare the capture context of a transaction; its changes go to the relays, "
					+ "without identity or trace", ex);
		}
	}

	/**
	 * A failed statement aborts the database transaction. Sent at once, the context's
	 * round trip is the transaction's first, so rolling back the transaction it aborted
	 * undoes nothing but the starter's own statement, and leaves the application's
	 * transaction as it would be without this listener: the one rollback the starter ever
	 * makes on an application's connection, and only when that statement failed. On a
	 * broken connection it fails too, as the application's first statement will.
	 */
	private static void rollbackContext(Connection connection) {
		if (!OwnTransactions.hasFailed(connection)) {
			return; // the connection is gone, and the application finds out
		}
		try {
			connection.rollback();
		}
		catch (SQLException | RuntimeException ex) {
			// the connection is gone: so is the transaction, and the application finds
			// out
		}
	}

	/**
	 * Dispatches one transaction after it commits, if it sent its context with a scope:
	 * registered with that transaction, so it runs when that transaction ends, never when
	 * a transaction nested in it does.
	 */
	private final class AfterCommit implements TransactionSynchronization {

		private final DeferredContext context;

		private final ConnectionHolder holder;

		private final ScopeDispatcher committedScopes;

		private boolean dispatched;

		AfterCommit(DeferredContext context, ConnectionHolder holder, ScopeDispatcher committedScopes) {
			this.context = context;
			this.holder = holder;
			this.committedScopes = committedScopes;
		}

		@Override
		public void afterCommit() {
			UUID scope = this.context.scope();
			if (scope == null) {
				return; // it wrote no audited table
			}
			// never throws (see afterBegin): the caller's transaction has committed, and
			// an exception here would reach it as if it had not; the relay picks the rows
			// up
			try {
				this.dispatched = true;
				this.committedScopes.committed(scope, TransactionContextListener.this.transactionManager,
						committedConnection(), this.context.notices());
			}
			catch (RuntimeException | Error ex) {
				this.dispatched = false; // left to the relays in afterCompletion
				TransactionContextListener.this.failures
					.warn("Dispatch after commit failed; the relay will deliver the events of scope " + scope, ex);
			}
		}

		/**
		 * The connection the transaction committed on, if it is still the thread's and
		 * has no transaction open: the dispatch may read on it without waiting for
		 * another. Otherwise the dispatch reads on a connection of its own.
		 */
		private @Nullable Connection committedConnection() {
			if (TransactionSynchronizationManager
				.getResource(TransactionContextListener.this.dataSource) != this.holder) {
				return null;
			}
			Connection connection = this.holder.getConnection();
			return OwnTransactions.hasEnded(connection) ? connection : null;
		}

		/**
		 * Always called, unlike {@link #afterCommit()}, which an earlier synchronization
		 * that throws skips: a committed transaction that was not dispatched is left to
		 * the relays.
		 */
		@Override
		public void afterCompletion(int status) {
			UUID scope = this.context.scope();
			if (scope != null && status != STATUS_ROLLED_BACK && !this.dispatched) {
				try {
					this.committedScopes.abandoned(scope);
				}
				catch (RuntimeException ex) {
					TransactionContextListener.this.failures.warn("Cannot leave scope " + scope + " to the relay", ex);
				}
			}
		}

		@Override
		public int getOrder() {
			return LOWEST_PRECEDENCE;
		}

	}

}
