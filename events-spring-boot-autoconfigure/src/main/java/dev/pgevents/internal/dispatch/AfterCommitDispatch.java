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
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import dev.pgevents.internal.capture.AuditSchema;
import dev.pgevents.internal.capture.CommittedScopes;
import dev.pgevents.internal.capture.ThrottledLog;

import org.springframework.context.SmartLifecycle;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Delivers a committed transaction's rows just after it commits (Keel's
 * {@code SendEvents}), in the committing thread or, when too many of those already run
 * subscribers (and in async mode), in the dispatch executor. Either way the rows are
 * claimed first ({@link Claim}): a row the relay holds is skipped, and the relay skips
 * the rows held here, whatever the age of the transaction that wrote them.
 * <p>
 * When it stops, it takes no new transaction (their rows are left to the relays of the
 * instances still running), drops what waits in the executor's queue, and waits for the
 * deliveries in progress to finish and record their outcomes.
 */
public final class AfterCommitDispatch implements CommittedScopes, SmartLifecycle {

	private static final Log logger = LogFactory.getLog(AfterCommitDispatch.class);

	private static final int PAGE = 1000;

	private final DataSource dataSource;

	private final FanOut fanOut;

	private final ClaimKeeper keeper;

	private final Duration lease;

	private final ThreadPoolExecutor executor;

	private final boolean async;

	private final Semaphore inCommittingThreads;

	private final String lockScope;

	private final ThrottledLog failures = new ThrottledLog(logger, Duration.ofSeconds(10));

	/**
	 * Per transaction manager: runs the subscribers outside the committed transaction.
	 */
	private final Map<PlatformTransactionManager, TransactionTemplate> outside = new ConcurrentHashMap<>();

	private final Object inFlightMonitor = new Object();

	private int inFlight;

	private volatile boolean running;

	/**
	 * Create the dispatcher.
	 * @param dataSource the audited database
	 * @param schema the audit schema
	 * @param fanOut delivers and records
	 * @param keeper keeps claims alive while subscribers run
	 * @param lease how long a claim may sit idle
	 * @param executor the dispatch executor: runs what the committing threads hand over
	 * @param committingThreads how many committing threads may run subscribers at once
	 * (the others hand their transactions over to the executor), or {@code -1} to hand
	 * every transaction over
	 */
	AfterCommitDispatch(DataSource dataSource, AuditSchema schema, FanOut fanOut, ClaimKeeper keeper, Duration lease,
			ThreadPoolExecutor executor, int committingThreads) {
		this.dataSource = dataSource;
		this.fanOut = fanOut;
		this.keeper = keeper;
		this.lease = lease;
		this.executor = executor;
		this.async = committingThreads < 0;
		this.inCommittingThreads = new Semaphore(Math.max(0, committingThreads));
		this.lockScope = "SELECT " + AuditRow.COLUMNS + " FROM " + schema.pendingFunction() + "(?, ?, " + PAGE + ")";
	}

	/**
	 * Dispatch a committed transaction. The committing thread still holds its connection,
	 * so it never waits for another one here: it claims the rows on the connection it
	 * holds, and runs the subscribers (whose own data access takes connections) only
	 * while fewer committing threads than the pool can serve alongside are doing so;
	 * otherwise, and in async mode, the transaction is handed over to the dispatch
	 * executor, whose threads hold no connection while they wait for one.
	 */
	@Override
	public void committed(UUID scope, PlatformTransactionManager transactionManager, Connection connection) {
		if (!begin()) {
			return; // stopped: the relays of the instances still running deliver it
		}
		try {
			if (this.async || !this.inCommittingThreads.tryAcquire()) {
				handOver(scope);
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
				}).executeWithoutResult((status) -> dispatch(scope, connection, false));
			}
			finally {
				this.inCommittingThreads.release();
			}
		}
		finally {
			end();
		}
	}

	private void handOver(UUID scope) {
		try {
			this.executor.execute(() -> {
				if (begin()) {
					try {
						dispatch(scope, this.dataSource.getConnection(), true);
					}
					catch (SQLException ex) {
						this.failures
							.warn("Cannot dispatch the events of scope " + scope + "; the relay will deliver them", ex);
					}
					finally {
						end();
					}
				}
			});
		}
		catch (RejectedExecutionException ex) {
			this.failures.warn("Dispatch queue full (events.dispatch.queue-capacity): transactions are left to the "
					+ "relay, which delivers them once their lease expires", ex);
		}
	}

	/**
	 * Claim and deliver a committed transaction's rows page by page, so a transaction
	 * that changed a million rows does not load them at once.
	 * @param connection where to claim them
	 * @param ownConnection whether to close the connection when done
	 */
	private void dispatch(UUID scope, Connection connection, boolean ownConnection) {
		try {
			long after = 0;
			int claimed;
			do {
				long from = after;
				try (Claim claim = Claim.open(connection, false, this.keeper, this.lease,
						(locking) -> lockPage(locking, scope, from))) {
					claimed = claim.rows().size();
					if (claimed == 0 || this.fanOut.deliver(claim, this::isRunning) < claimed) {
						return;
					}
					after = claim.rows().get(claimed - 1).id();
				}
			}
			while (claimed == PAGE);
		}
		catch (SQLException | RuntimeException ex) {
			this.failures.warn("Cannot dispatch the events of scope " + scope + "; the relay will deliver them", ex);
		}
		finally {
			if (ownConnection) {
				try {
					connection.close();
				}
				catch (SQLException ex) {
					// a broken connection: the pool discards it
				}
			}
		}
	}

	private List<AuditRow> lockPage(Connection connection, UUID scope, long after) throws SQLException {
		try (PreparedStatement select = connection.prepareStatement(this.lockScope)) {
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
	}

	private boolean begin() {
		synchronized (this.inFlightMonitor) {
			if (!this.running) {
				return false;
			}
			this.inFlight++;
			return true;
		}
	}

	private void end() {
		synchronized (this.inFlightMonitor) {
			if (--this.inFlight == 0) {
				this.inFlightMonitor.notifyAll();
			}
		}
	}

	@Override
	public void start() {
		this.running = true;
	}

	@Override
	public void stop() {
		stopTakingWork();
		awaitInFlight(Long.MAX_VALUE);
	}

	/**
	 * Stop in the background: the lifecycle processor waits for the callback for up to
	 * {@code spring.lifecycle.timeout-per-shutdown-phase}, and the relay stops alongside.
	 */
	@Override
	public void stop(Runnable callback) {
		stopTakingWork();
		Thread stopping = new Thread(() -> {
			awaitInFlight(Long.MAX_VALUE);
			callback.run();
		}, "events-dispatch-stop");
		stopping.setDaemon(true);
		stopping.start();
	}

	private void stopTakingWork() {
		synchronized (this.inFlightMonitor) {
			this.running = false;
		}
		// not begun: left to the relays, like the transactions that commit from now on
		this.executor.getQueue().clear();
	}

	private void awaitInFlight(long timeoutNanos) {
		long deadline = System.nanoTime() + timeoutNanos;
		synchronized (this.inFlightMonitor) {
			try {
				while (this.inFlight > 0 && deadline - System.nanoTime() > 0) {
					this.inFlightMonitor.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
				}
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}
	}

	@Override
	public boolean isRunning() {
		return this.running;
	}

	@Override
	public int getPhase() {
		return Relay.PHASE;
	}

	/**
	 * Stop the executor's threads (once the lifecycle has stopped, they have nothing left
	 * to do).
	 */
	void close() {
		this.executor.shutdownNow();
	}

}
