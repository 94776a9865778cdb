package dev.pgevents.capture;

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
	 */
	void committed(UUID scope, PlatformTransactionManager transactionManager);

}
