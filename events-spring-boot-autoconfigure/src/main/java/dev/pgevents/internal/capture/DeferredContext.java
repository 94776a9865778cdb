package dev.pgevents.internal.capture;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import java.util.UUID;
import java.util.function.Supplier;

import org.jspecify.annotations.Nullable;

import dev.pgevents.IdentityResolver;
import dev.pgevents.Trace;
import dev.pgevents.TraceSource;
import dev.pgevents.internal.support.ThrottledLog;

/**
 * One transaction's capture context: its scope id, the identity, the trace and the cause
 * (when a subscriber writes, see {@link Causation}), set as transaction-local settings
 * that the capture trigger records, in one round trip. Sent when the transaction's
 * connection meets its first statement that may write an audited table, or at once where
 * the connection cannot wait (see {@link ContextConnections}).
 * <p>
 * Sending never throws into the application (see
 * {@link TransactionContextListener#afterBegin}): a failure costs the transaction its
 * context, and its rows go to the relays. On a broken connection the application's next
 * statement fails as it would have anyway. On a live one (a cancel, a statement timeout)
 * the failed statement aborts the database transaction: sent at once, it was the
 * transaction's first statement and is rolled back; deferred, the application's later
 * statements fail as after any failed statement, and its transaction rolls back.
 */
final class DeferredContext {

	private static final String SET_CONTEXT = """
			SELECT set_config('pgevents.scope', ?, true), set_config('pgevents.identity', ?, true),
				set_config('pgevents.trace', ?, true), set_config('pgevents.span', ?, true),
				set_config('pgevents.cause', ?, true)
			""";

	/**
	 * The context, for a connection that will not take the rows its commit sends back
	 * (see {@link CommitNotices}): the transaction sends none, so that none are left
	 * among the connection's warnings.
	 */
	private static final String SET_CONTEXT_UNNOTICED = SET_CONTEXT.strip()
			+ ", set_config('pgevents.noticed', '-1', true)";

	private final @Nullable Supplier<UUID> newScope;

	private final IdentityResolver identities;

	private final TraceSource traces;

	private final AuditedStatements statements;

	private final ThrottledLog failures;

	/**
	 * Made when the context is first sent: a transaction that writes no audited table
	 * needs none. Written and read by the transaction's thread only.
	 */
	private @Nullable UUID scope;

	/** What the transaction's commit sent back ({@link CommitNotices}). */
	private List<String> notices = List.of();

	/**
	 * Create a transaction's context.
	 * @param newScope gives the transaction its scope when the context is first sent, so
	 * that it is dispatched after commit; {@code null} when it is not dispatched (its
	 * rows then get no scope, and the trigger wakes the relays for them)
	 */
	DeferredContext(@Nullable Supplier<UUID> newScope, IdentityResolver identities, TraceSource traces,
			AuditedStatements statements, ThrottledLog failures) {
		this.newScope = newScope;
		this.identities = identities;
		this.traces = traces;
		this.statements = statements;
		this.failures = failures;
	}

	/**
	 * The transaction's scope, once its context has been sent with one (or the sending
	 * failed: the statement may still have reached the server): it may then have rows of
	 * its own to dispatch after commit.
	 * @return the scope, or {@code null}
	 */
	@Nullable UUID scope() {
		return this.scope;
	}

	/**
	 * Learn what the transaction's commit sent back.
	 * @param notices the starter's notices of the commit ({@link CommitNotices})
	 */
	void committed(List<String> notices) {
		this.notices = notices;
	}

	/**
	 * The rows the transaction's commit sent back, as notices, if the connection saw its
	 * commit.
	 * @return the notices' texts, in the order they came; none when there were none
	 */
	List<String> notices() {
		return this.notices;
	}

	boolean appliesTo(String sql) {
		return this.statements.mayWrite(sql);
	}

	/**
	 * Set the context on the transaction open on {@code connection}.
	 * @param connection the transaction's connection
	 * @param takesNotices whether the connection takes the rows the transaction's commit
	 * sends back ({@link ContextConnections} does)
	 * @return {@code false} when it failed
	 */
	boolean send(Connection connection, boolean takesNotices) {
		try {
			Supplier<UUID> newScope = this.newScope;
			if (this.scope == null && newScope != null) {
				// kept even if the statement fails: it may have reached the server,
				// and the dispatch after commit finds the rows that carry it, or none
				this.scope = newScope.get();
			}
			UUID scope = this.scope;
			Trace trace = this.traces.currentTrace();
			String identity = this.identities.currentIdentityId();
			Causation.Cause cause = Causation.current();
			if (scope == null && identity == null && trace == null && cause == null) {
				return true; // nothing to record: spare the round trip
			}
			try (PreparedStatement settings = connection
				.prepareStatement(takesNotices ? SET_CONTEXT : SET_CONTEXT_UNNOTICED)) {
				settings.setString(1, (scope != null) ? scope.toString() : "");
				settings.setString(2, (identity != null) ? identity : "");
				settings.setString(3, (trace != null) ? trace.traceId() : "");
				settings.setString(4, (trace != null) ? trace.spanId() : "");
				settings.setString(5, (cause != null) ? cause.setting() : "");
				settings.execute();
			}
			return true;
		}
		catch (SQLException | RuntimeException | LinkageError ex) {
			this.failures.warn("Cannot set the capture context of a transaction; its changes go to the relays, "
					+ "without identity or trace", ex);
			return false;
		}
	}

}
