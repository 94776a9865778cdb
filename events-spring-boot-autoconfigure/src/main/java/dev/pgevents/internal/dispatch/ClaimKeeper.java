package dev.pgevents.internal.dispatch;

import java.sql.SQLException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

/**
 * Keeps claims alive while subscribers run: every third of the lease it renews each claim
 * that has not been renewed for that long (a subscriber call in progress), so that no
 * other instance takes its rows or ledger entries over while the call runs. A stalled
 * process stalls its keeper too, and loses its claims as it should.
 * <p>
 * A call that runs longer than the lease is logged, once per lease: it holds its claim
 * until it returns.
 */
final class ClaimKeeper implements AutoCloseable {

	private static final Log logger = LogFactory.getLog(ClaimKeeper.class);

	private final Set<Kept> claims = ConcurrentHashMap.newKeySet();

	private final Duration lease;

	private @Nullable ScheduledExecutorService scheduler;

	private boolean closed;

	/**
	 * Create a keeper; its thread starts with the first claim.
	 * @param lease how long a claim may sit idle before the database ends it
	 */
	ClaimKeeper(Duration lease) {
		this.lease = lease;
	}

	void keep(Kept claim) {
		this.claims.add(claim);
		start();
	}

	void release(Kept claim) {
		this.claims.remove(claim);
	}

	private synchronized void start() {
		if (this.scheduler != null || this.closed) {
			return;
		}
		ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor((task) -> {
			Thread keeper = new Thread(task, "events-claim-keeper");
			keeper.setDaemon(true);
			return keeper;
		});
		long every = Math.max(1, this.lease.toMillis() / 3);
		scheduler.scheduleWithFixedDelay(this::keepAlive, every, every, TimeUnit.MILLISECONDS);
		this.scheduler = scheduler;
	}

	private void keepAlive() {
		Duration idle = this.lease.dividedBy(3);
		for (Kept claim : this.claims) {
			try {
				claim.renewIfIdle(idle);
			}
			catch (SQLException | RuntimeException ex) {
				// the delivering thread finds out when it records its outcomes
				logger.debug("Cannot keep a claim alive", ex);
			}
			String call = claim.longCall(this.lease);
			if (call != null) {
				logger.warn(call + "; what its claim holds waits for it, and goes to other instances only if this "
						+ "one stops or stalls");
			}
		}
	}

	@Override
	public synchronized void close() {
		this.closed = true;
		if (this.scheduler != null) {
			this.scheduler.shutdownNow();
		}
	}

	/**
	 * A claim the keeper renews.
	 */
	interface Kept {

		/**
		 * Renew the claim if it has not been renewed for {@code idle}.
		 * @param idle how long a claim goes without renewal
		 * @throws SQLException when the database fails
		 */
		void renewIfIdle(Duration idle) throws SQLException;

		/**
		 * The call in progress, if it has run for longer than {@code every} since it
		 * started or was last reported.
		 * @param every how often a long call is reported
		 * @return the call and how long it has run, or {@code null}
		 */
		@Nullable String longCall(Duration every);

	}

}
