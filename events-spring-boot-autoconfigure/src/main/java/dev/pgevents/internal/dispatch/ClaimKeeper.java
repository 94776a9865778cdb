package dev.pgevents.internal.dispatch;

import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import dev.pgevents.internal.support.ThrottledLog;

import org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler;

/**
 * Keeps this instance's claims alive: every third of the lease it shows that the instance
 * runs ({@link Instance}, which holds the rows of the transactions it dispatches after
 * commit), and renews each relay claim that has not been renewed for that long (a
 * subscriber call in progress), so that no other instance takes those rows or ledger
 * entries over while the instance runs and its calls are in progress. A stalled process
 * stalls its keeper too, and loses its claims as it should.
 * <p>
 * A call that runs longer than the lease is logged, once per lease: it holds its claim
 * until it returns.
 */
final class ClaimKeeper implements AutoCloseable {

	private static final Log logger = LogFactory.getLog(ClaimKeeper.class);

	private final Set<KeptClaim> claims = ConcurrentHashMap.newKeySet();

	private final Duration lease;

	private final InstanceHold instance;

	private volatile boolean beating;

	private final ThrottledLog beatFailures = new ThrottledLog(logger, Duration.ofMinutes(1));

	private @Nullable ThreadPoolTaskScheduler scheduler;

	private final EngineThreads threads;

	private boolean closed;

	/**
	 * Create a keeper.
	 * @param lease how long a claim may sit idle before the database ends it
	 * @param instance this instance
	 * @param threads makes its thread
	 */
	ClaimKeeper(Duration lease, InstanceHold instance, EngineThreads threads) {
		this.threads = threads;
		this.lease = lease;
		this.instance = instance;
	}

	void keep(KeptClaim claim) {
		this.claims.add(claim);
		start();
	}

	/**
	 * Show that the instance runs, now and from then on every third of the lease.
	 */
	void startBeating() {
		this.beating = true;
		beat();
		start();
	}

	/**
	 * Stop showing that the instance runs: it leaves its rows to the relays.
	 */
	void stopBeating() {
		this.beating = false;
	}

	void release(KeptClaim claim) {
		this.claims.remove(claim);
	}

	private synchronized void start() {
		if (this.scheduler != null || this.closed) {
			return;
		}
		ThreadPoolTaskScheduler scheduler = this.threads.scheduler("events-claim-keeper-");
		Duration every = Duration.ofMillis(Math.max(1, this.lease.toMillis() / 3));
		scheduler.scheduleWithFixedDelay(this::keepAlive, Instant.now().plus(every), every);
		this.scheduler = scheduler;
	}

	private void beat() {
		if (this.beating) {
			try {
				this.instance.beat();
			}
			catch (RuntimeException ex) {
				this.beatFailures.warn("Cannot show that this instance runs: seen no more for events.relay.lease, it "
						+ "leaves the rows of its transactions to the relays", ex);
			}
		}
	}

	private void keepAlive() {
		beat();
		Duration idle = this.lease.dividedBy(3);
		for (KeptClaim claim : this.claims) {
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
			this.scheduler.shutdown();
		}
	}

	/**
	 * A claim the keeper renews.
	 */
	interface KeptClaim {

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
