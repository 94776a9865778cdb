package dev.pgevents.internal.dispatch;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import dev.pgevents.internal.capture.ScopeDispatcher;
import dev.pgevents.internal.support.ThrottledLog;

import org.springframework.context.SmartLifecycle;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionTemplate;
import org.springframework.scheduling.concurrent.ThreadPoolTaskExecutor;

/**
 * Delivers a committed transaction's rows just after it commits (Keel's
 * {@code SendEvents}), in the committing thread or, when too many of those already run
 * subscribers (and in async mode), in the dispatch executor; the outcomes are recorded in
 * the background ({@link OutcomeWriter}).
 * <p>
 * Its transactions' rows are this instance's while it runs ({@link Instance}): no relay
 * takes them over, however long the transaction or its subscribers take; a transaction
 * whose dispatch fails is given up to the relays. Transactions that commit while the
 * application starts, before the subscribers may run, are dispatched once it has started.
 * <p>
 * When it stops, it takes no new transaction, drops what waits in the executor's queue,
 * waits for the deliveries in progress to finish, has their outcomes written, and then
 * leaves the rest to the relays of the instances still running, all before the connection
 * pool closes.
 */
public final class AfterCommitDispatch implements ScopeDispatcher, SmartLifecycle {

	private static final Log logger = LogFactory.getLog(AfterCommitDispatch.class);

	/** How many of a transaction's rows are read at once. */
	static final int PAGE = 1000;

	private final ScopeRows rows;

	private final FanOut fanOut;

	private final OutcomeWriter outcomes;

	private final InstanceHold instance;

	private final ClaimKeeper keeper;

	private final ThreadPoolTaskExecutor executor;

	private final Supervisor supervisor;

	private final boolean async;

	private final Semaphore inCommittingThreads;

	private final ThrottledLog failures = new ThrottledLog(logger, Duration.ofSeconds(10));

	/**
	 * Per transaction manager: runs the subscribers outside the committed transaction.
	 */
	private final Map<PlatformTransactionManager, TransactionTemplate> outside = new ConcurrentHashMap<>();

	private final InFlight inFlight = new InFlight();

	/**
	 * Transactions that committed while the application context started (a bean writing
	 * in its initialization), before the dispatch could run subscribers: dispatched when
	 * it starts. Guarded by itself, with {@link #started}.
	 */
	private final List<UUID> beforeStart = new ArrayList<>();

	private boolean started;

	/**
	 * Create the dispatcher.
	 * @param rows reads a committed transaction's rows
	 * @param fanOut delivers each row
	 * @param outcomes records the outcomes
	 * @param instance holds the scopes of this instance's transactions
	 * @param keeper keeps the instance's hold fresh
	 * @param executor the dispatch executor: runs what the committing threads hand over
	 * @param supervisor runs its stop in the background
	 * @param committingThreads how many committing threads may run subscribers at once
	 * (the others hand their transactions over to the executor), or {@code -1} to hand
	 * every transaction over
	 */
	AfterCommitDispatch(ScopeRows rows, FanOut fanOut, OutcomeWriter outcomes, InstanceHold instance,
			ClaimKeeper keeper, ThreadPoolTaskExecutor executor, Supervisor supervisor, int committingThreads) {
		this.supervisor = supervisor;
		this.instance = instance;
		this.keeper = keeper;
		this.rows = rows;
		this.fanOut = fanOut;
		this.outcomes = outcomes;
		this.executor = executor;
		this.async = committingThreads < 0;
		this.inCommittingThreads = new Semaphore(Math.max(0, committingThreads));
	}

	@Override
	public UUID newScope() {
		return this.instance.newScope();
	}

	@Override
	public void abandoned(UUID scope) {
		this.instance.giveUp(scope);
	}

	/**
	 * Dispatch a committed transaction. The committing thread still holds its connection,
	 * so it never waits for another one here: it reads the rows on the connection it
	 * holds, and runs the subscribers (whose own data access takes connections) only
	 * while fewer committing threads than the pool can serve alongside are doing so;
	 * otherwise, and in async mode, the transaction is handed over to the dispatch
	 * executor, whose threads hold no connection while they wait for one. So is a
	 * transaction whose connection the thread no longer holds idle. Where the commit sent
	 * the rows back, none are read.
	 */
	@Override
	public void committed(UUID scope, PlatformTransactionManager transactionManager, @Nullable Connection connection,
			List<String> notices) {
		if (!this.inFlight.begin() && (waitsForStart(scope) || !this.inFlight.begin())) {
			return; // or stopped: the relays of the instances still running deliver it
		}
		try {
			OrderBatch order = new OrderBatch();
			List<AuditRow> sent = this.rows.sent(scope, notices);
			if (this.async || connection == null) {
				handOver(scope, sent, order);
				return;
			}
			List<AuditRow> first;
			try {
				first = (sent != null) ? sent : this.rows.read(connection, scope, 0, order);
			}
			catch (SQLException ex) {
				this.instance.giveUp(scope);
				this.failures.warn("Cannot read the rows of a committed transaction; the relay will deliver them", ex);
				return;
			}
			if (first.isEmpty()) {
				return;
			}
			if (!this.inCommittingThreads.tryAcquire()) {
				handOver(scope, first, order);
				return;
			}
			try {
				// The committed transaction's resources are still bound to this thread:
				// suspend them, so the subscribers' data access runs in transactions of
				// their own.
				this.outside.computeIfAbsent(transactionManager, (manager) -> {
					TransactionTemplate outside = new TransactionTemplate(manager);
					outside.setPropagationBehavior(TransactionDefinition.PROPAGATION_NOT_SUPPORTED);
					return outside;
				})
					.executeWithoutResult((status) -> dispatchScope(scope, first, order,
							(after) -> this.rows.read(connection, scope, after, order)));
			}
			finally {
				this.inCommittingThreads.release();
			}
		}
		finally {
			this.inFlight.end();
		}
	}

	private boolean waitsForStart(UUID scope) {
		synchronized (this.beforeStart) {
			if (!this.started) {
				this.beforeStart.add(scope);
			}
			return !this.started;
		}
	}

	private void handOver(UUID scope, @Nullable List<AuditRow> first, OrderBatch order) {
		try {
			this.executor.execute(() -> {
				if (this.inFlight.begin()) {
					try {
						dispatchScope(scope, first, order, (after) -> this.rows.read(scope, after, order));
					}
					finally {
						this.inFlight.end();
					}
				}
			});
		}
		catch (RejectedExecutionException ex) {
			this.instance.giveUp(scope);
			this.failures.warn("Dispatch queue full (events.dispatch.queue-capacity): transactions are left to the "
					+ "relay, which delivers them once their lease expires", ex);
		}
	}

	/**
	 * Deliver a committed transaction's rows page by page, so a transaction that changed
	 * a million rows does not load them at once. Once the dispatch stops, no further row
	 * is begun: the rest are left to the relays.
	 * @param first the first page, or {@code null} to read it
	 * @param order what holds back the scope's ordered deliveries
	 */
	private void dispatchScope(UUID scope, @Nullable List<AuditRow> first, OrderBatch order, PageReader pages) {
		try {
			List<AuditRow> page = (first != null) ? first : pages.after(0);
			while (deliver(scope, page, order) && page.size() == PAGE) {
				page = pages.after(page.get(page.size() - 1).id());
			}
		}
		catch (SQLException | RuntimeException ex) {
			this.instance.giveUp(scope);
			this.failures.warn("Cannot dispatch the events of scope " + scope + "; the relay will deliver them", ex);
		}
	}

	private boolean deliver(UUID scope, List<AuditRow> rows, OrderBatch order) {
		for (AuditRow row : rows) {
			if (!this.inFlight.isOpen()) {
				return false;
			}
			this.outcomes.record(scope, this.fanOut.deliver(row, DeliveryObserver.Path.DISPATCH, order));
		}
		return true;
	}

	@FunctionalInterface
	private interface PageReader {

		List<AuditRow> after(long id) throws SQLException;

	}

	@Override
	public void start() {
		this.keeper.startBeating();
		this.outcomes.start();
		this.inFlight.open();
		List<UUID> waiting;
		synchronized (this.beforeStart) {
			this.started = true;
			waiting = List.copyOf(this.beforeStart);
			this.beforeStart.clear();
		}
		waiting.forEach((scope) -> handOver(scope, null, new OrderBatch()));
	}

	@Override
	public void stop() {
		stopTakingWork();
		drain();
	}

	/**
	 * Stop in the background: the lifecycle processor waits for the callback for up to
	 * {@code spring.lifecycle.timeout-per-shutdown-phase}, and the relay stops alongside.
	 */
	@Override
	public void stop(Runnable callback) {
		stopTakingWork();
		this.supervisor.background("events-dispatch-stop-", () -> {
			drain();
			callback.run();
		});
	}

	private void stopTakingWork() {
		this.inFlight.close();
		// not begun: left to the relays, like the transactions that commit from now on
		this.executor.getThreadPoolExecutor().getQueue().clear();
	}

	/**
	 * Wait for the deliveries in progress, then have every outcome written.
	 */
	private void drain() {
		this.inFlight.awaitNone();
		this.outcomes.stop(Duration.ofSeconds(30));
		// what was not begun, or not recorded, is the other instances' now
		this.keeper.stopBeating();
		try {
			this.instance.retire();
		}
		catch (RuntimeException ex) {
			logger.warn("Cannot retire this instance; the relays take over its undispatched rows once it is seen "
					+ "no more (events.relay.lease)", ex);
		}
	}

	@Override
	public boolean isRunning() {
		return this.inFlight.isOpen();
	}

	@Override
	public int getPhase() {
		return Relay.PHASE;
	}

	/**
	 * Stop the executor's threads (once the lifecycle has stopped, they have nothing left
	 * to do), and wait for them, boundedly.
	 */
	void close() {
		this.executor.shutdown();
	}

}
