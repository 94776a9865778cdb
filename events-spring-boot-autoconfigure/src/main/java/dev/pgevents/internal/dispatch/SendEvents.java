package dev.pgevents.internal.dispatch;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.json.JsonMapper;

import dev.pgevents.Event;
import dev.pgevents.EventHandler;
import dev.pgevents.internal.capture.AuditSchema;
import dev.pgevents.internal.capture.AuditedTable;
import dev.pgevents.internal.capture.CommittedScopes;
import dev.pgevents.internal.capture.ThrottledLog;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Turns a committed transaction's audit rows into events and hands each to the
 * {@link EventHandler} once per subscriber of its event, in audit-row order (Keel's
 * {@code SendEvents}). Rows are marked processed only after every subscriber has been
 * called; a subscriber that throws is recorded in the delivery ledger for that subscriber
 * alone, and never disturbs the caller or the other subscribers.
 */
public final class SendEvents implements CommittedScopes, AutoCloseable {

	private static final Log logger = LogFactory.getLog(SendEvents.class);

	private static final int PAGE = 1000;

	private final JdbcTemplate jdbc;

	private final SubscriberRegistry subscribers;

	private final EventHandler handler;

	private final EventFactory events;

	private final DeliveryLedger ledger;

	private final Backoff backoff;

	private final ExecutorService executor;

	private final boolean async;

	private final Semaphore inCommittingThreads;

	private final String selectScope;

	private final ThrottledLog handOverFailures = new ThrottledLog(logger, Duration.ofSeconds(10));

	/**
	 * Per transaction manager: runs the subscribers outside the committed transaction.
	 */
	private final Map<PlatformTransactionManager, TransactionTemplate> outside = new ConcurrentHashMap<>();

	/**
	 * Create the dispatcher.
	 * @param dataSource the audited database
	 * @param schema the audit schema
	 * @param subscribers the subscribers
	 * @param handler delivers one event to one subscriber
	 * @param jsonMapper parses row data
	 * @param tables the audited tables
	 * @param backoff when failed deliveries are tried again
	 * @param subscriberExpiry how long a subscriber that no instance runs any more is
	 * still handed events
	 * @param executor the dispatch executor: runs what the committing threads hand over
	 * @param committingThreads how many committing threads may run subscribers at once
	 * (the others hand their transactions over to the executor), or {@code -1} to hand
	 * every transaction over
	 */
	public SendEvents(DataSource dataSource, AuditSchema schema, SubscriberRegistry subscribers, EventHandler handler,
			JsonMapper jsonMapper, List<AuditedTable> tables, Backoff backoff, Duration subscriberExpiry,
			ExecutorService executor, int committingThreads) {
		// for the dispatch executor's threads, which hold no connection of their own; the
		// lookup's plan is kept in the function (see pending-function.sql)
		this.jdbc = new JdbcTemplate(dataSource);
		this.subscribers = subscribers;
		this.handler = handler;
		this.events = new EventFactory(jsonMapper, tables);
		this.backoff = backoff;
		this.ledger = new DeliveryLedger(dataSource, schema, subscribers.names(), subscriberExpiry);
		this.executor = executor;
		this.async = committingThreads < 0;
		this.inCommittingThreads = new Semaphore(Math.max(0, committingThreads));
		this.selectScope = "SELECT " + AuditRow.COLUMNS + " FROM " + schema.pendingFunction() + "(?, ?, " + PAGE + ")";
	}

	/**
	 * Dispatch a committed transaction. The committing thread still holds its connection,
	 * so it never waits for another one here: it reads the rows on the connection it
	 * holds, and runs the subscribers (whose own data access takes connections) only
	 * while fewer committing threads than the pool can serve alongside are doing so;
	 * otherwise, and in async mode, the transaction is handed over to the dispatch
	 * executor, whose threads hold no connection while they wait for one.
	 */
	@Override
	public void committed(UUID scope, PlatformTransactionManager transactionManager, Connection connection) {
		if (this.async) {
			handOver(scope, null);
			return;
		}
		List<AuditRow> first;
		try {
			first = readPage(connection, scope, 0);
		}
		catch (SQLException ex) {
			this.handOverFailures.warn("Cannot read the rows of a committed transaction; the relay will deliver them",
					ex);
			return;
		}
		if (first.isEmpty()) {
			return;
		}
		if (!this.inCommittingThreads.tryAcquire()) {
			handOver(scope, first);
			return;
		}
		try {
			// The committed transaction's resources are still bound to this thread:
			// suspend
			// them, so the subscribers' data access runs in transactions of its own.
			this.outside.computeIfAbsent(transactionManager, (manager) -> {
				TransactionTemplate outside = new TransactionTemplate(manager);
				outside.setPropagationBehavior(TransactionDefinition.PROPAGATION_NOT_SUPPORTED);
				return outside;
			})
				.executeWithoutResult(
						(status) -> dispatchScope(scope, first, (after) -> readPage(connection, scope, after)));
		}
		finally {
			this.inCommittingThreads.release();
		}
	}

	private void handOver(UUID scope, @Nullable List<AuditRow> first) {
		try {
			this.executor.execute(() -> dispatchScope(scope, first,
					(after) -> this.jdbc.query(this.selectScope, (rs, row) -> AuditRow.read(rs), scope, after)));
		}
		catch (RejectedExecutionException ex) {
			this.handOverFailures.warn("Dispatch queue full (events.dispatch.queue-capacity): transactions are left "
					+ "to the relay, which delivers them once their lease expires", ex);
		}
	}

	/**
	 * Read a page of a committed transaction's rows on the connection it committed on.
	 * The connection may still be in manual-commit mode until the transaction manager
	 * resets it: read in autocommit, and leave the mode as it was (switching sends
	 * nothing to the server while no transaction is open).
	 */
	private List<AuditRow> readPage(Connection connection, UUID scope, long after) throws SQLException {
		boolean autoCommit = connection.getAutoCommit();
		if (!autoCommit) {
			connection.setAutoCommit(true);
		}
		try (PreparedStatement select = connection.prepareStatement(this.selectScope)) {
			select.setObject(1, scope);
			select.setLong(2, after);
			List<AuditRow> rows = new ArrayList<>();
			try (ResultSet rs = select.executeQuery()) {
				while (rs.next()) {
					rows.add(AuditRow.read(rs));
				}
			}
			return rows;
		}
		finally {
			if (!autoCommit) {
				connection.setAutoCommit(false);
			}
		}
	}

	/**
	 * Deliver a committed transaction's rows page by page, so a transaction that changed
	 * a million rows does not load them at once.
	 * @param first the first page, or {@code null} to read it
	 */
	private void dispatchScope(UUID scope, @Nullable List<AuditRow> first, PageReader pages) {
		try {
			List<AuditRow> page = (first != null) ? first : pages.after(0);
			deliver(page);
			while (page.size() == PAGE) {
				page = pages.after(page.get(page.size() - 1).id());
				deliver(page);
			}
		}
		catch (SQLException | RuntimeException ex) {
			this.handOverFailures.warn("Cannot dispatch the events of scope " + scope + "; the relay will deliver them",
					ex);
		}
	}

	@FunctionalInterface
	private interface PageReader {

		List<AuditRow> after(long id) throws SQLException;

	}

	/**
	 * Deliver each row's event to every local subscriber of it, in order, and have the
	 * outcomes recorded in the background.
	 * @param rows audit rows, in id order
	 */
	void deliver(List<AuditRow> rows) {
		for (AuditRow row : rows) {
			this.ledger.delivered(deliver(row));
		}
	}

	/**
	 * Deliver rows that the transaction open on {@code connection} holds locked, in
	 * order, and record their outcomes in that transaction: at the end, and whenever
	 * {@code recordEvery} has passed since the last statement, so that the transaction
	 * never sits idle for that long (the relay's claim ends when it does).
	 * @param rows audit rows, in id order
	 * @param connection the connection whose transaction holds the rows
	 * @param recordEvery the longest the transaction goes without a statement while
	 * subscribers run, unless a single call takes longer
	 * @param lastStatement when the transaction last ran a statement
	 * ({@link System#nanoTime()})
	 * @throws SQLException when the outcomes cannot be recorded
	 */
	void deliverClaimed(List<AuditRow> rows, Connection connection, Duration recordEvery, long lastStatement)
			throws SQLException {
		List<DeliveryLedger.Outcome> outcomes = new ArrayList<>(rows.size());
		long recorded = lastStatement;
		for (AuditRow row : rows) {
			outcomes.add(deliver(row));
			if (System.nanoTime() - recorded > recordEvery.toNanos()) {
				this.ledger.record(connection, outcomes);
				outcomes.clear();
				recorded = System.nanoTime();
			}
		}
		this.ledger.record(connection, outcomes);
	}

	private DeliveryLedger.Outcome deliver(AuditRow row) {
		List<Subscriber> targets = this.subscribers.subscribersOf(row.eventName());
		List<DeliveryLedger.Failure> failures = new ArrayList<>(0);
		if (!targets.isEmpty()) {
			Event event = this.events.toEvent(row);
			String traceparent = row.traceparent();
			for (Subscriber subscriber : targets) {
				DeliveryLedger.Failure failure = deliver(subscriber.name(), event, traceparent, 1);
				if (failure != null) {
					failures.add(failure);
				}
			}
		}
		return new DeliveryLedger.Outcome(row.id(), failures);
	}

	/**
	 * Deliver a claimed ledger entry and record the outcome.
	 * @param entry the entry
	 * @param row its audit row
	 * @return whether the outcome was recorded (not when another instance claimed the
	 * entry since)
	 */
	boolean deliver(DeliveryLedger.ClaimedDelivery entry, AuditRow row) {
		Event event = this.events.toEvent(row);
		return this.ledger.finished(entry, deliver(entry.subscriber(), event, row.traceparent(), entry.attempts() + 1));
	}

	/**
	 * Give up a claimed ledger entry whose audit row is gone (deleted by hand: retention
	 * keeps the rows of undelivered entries).
	 * @param entry the entry
	 */
	void gone(DeliveryLedger.ClaimedDelivery entry) {
		this.ledger.finished(entry, new DeliveryLedger.Failure(entry.subscriber(),
				"the audit row " + entry.auditId() + " no longer exists", true, Duration.ZERO));
	}

	private DeliveryLedger.@Nullable Failure deliver(String subscriber, Event event, String traceparent, int attempt) {
		try {
			this.handler.handle(subscriber, event, traceparent);
			return null;
		}
		catch (Exception | LinkageError | AssertionError ex) {
			DeliveryLedger.Failure failure = DeliveryLedger.Failure.of(subscriber, ex, attempt, this.backoff);
			logger.warn(
					"Subscriber '" + subscriber + "' failed on event " + event.id() + " (" + event.eventName()
							+ "), attempt " + attempt + "; "
							+ (failure.dead() ? "dead-lettered" : "retrying in " + failure.delay().toMillis() + " ms"),
					ex);
			return failure;
		}
	}

	@Override
	public void close() throws InterruptedException {
		this.executor.shutdown();
		this.executor.awaitTermination(10, TimeUnit.SECONDS);
		this.ledger.close();
	}

}
