package dev.pgevents.internal.capture;

import java.sql.Connection;
import java.util.UUID;

import org.springframework.transaction.PlatformTransactionManager;

/**
 * Told of every transaction that committed with a capture scope.
 */
@FunctionalInterface
public interface CommittedScopes {

	/**
	 * Called from the committing thread after commit, while the finished transaction's
	 * resources are still bound to it.
	 * @param scope the transaction's scope id, recorded with its audit rows
	 * @param transactionManager the manager that committed it
	 * @param connection the connection it committed on, still held by it: read its rows
	 * on this one, never wait for a second connection while holding it (with more
	 * committing threads than the pool has connections, every thread would wait for one
	 * that no thread releases)
	 */
	void committed(UUID scope, PlatformTransactionManager transactionManager, Connection connection);

}
