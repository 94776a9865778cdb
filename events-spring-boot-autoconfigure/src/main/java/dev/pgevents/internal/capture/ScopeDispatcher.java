package dev.pgevents.internal.capture;

import java.sql.Connection;
import java.util.List;
import java.util.UUID;

import org.jspecify.annotations.Nullable;

import org.springframework.transaction.PlatformTransactionManager;

/**
 * Dispatches the transactions that commit with a capture scope: gives each its scope, and
 * is told when it committed, or that it cannot be dispatched after all.
 */
public interface ScopeDispatcher {

	/**
	 * A scope for a transaction that is to be dispatched after commit.
	 * @return a new scope
	 */
	UUID newScope();

	/**
	 * Leave a committed transaction's rows to the relays: it was not dispatched (its
	 * dispatch after commit was not called, or failed).
	 * @param scope the transaction's scope
	 */
	void abandoned(UUID scope);

	/**
	 * Called from the committing thread after commit, while the finished transaction's
	 * resources are still bound to it.
	 * @param scope the transaction's scope id, recorded with its audit rows
	 * @param transactionManager the manager that committed it
	 * @param connection the connection it committed on, still held by it, with no
	 * transaction open: read its rows on this one, never wait for a second connection
	 * while holding it (with more committing threads than the pool has connections, every
	 * thread would wait for one that no thread releases); {@code null} when the thread no
	 * longer holds it idle, and the rows are read elsewhere
	 * @param notices the rows the commit sent back ({@link CommitNotices}), which spare
	 * reading them when they are all there; none when it sent none
	 */
	void committed(UUID scope, PlatformTransactionManager transactionManager, @Nullable Connection connection,
			List<String> notices);

}
