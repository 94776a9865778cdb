package dev.pgevents.internal.dispatch;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.context.SmartLifecycle;

/**
 * The relay, one per instance: a thread that delivers what no after-commit dispatch did,
 * and its lifecycle. Each round it keeps this instance's subscribers registered
 * ({@link SubscriberHeartbeat}), watches the capture triggers ({@link CaptureCheck}),
 * measures the backlog ({@link Backlog}), and claims undispatched audit rows
 * ({@link UndispatchedRows}) and due ledger entries ({@link DueDeliveries}); then, unless
 * a full batch suggests more work, it waits for a notification or the poll interval
 * ({@link NotificationListener}). Alongside, on a thread of its own, {@link Retention}
 * deletes what is past its retention. Instances share the work through row locks. A
 * failed round is retried with backoff, logged once until the relay recovers.
 */
public final class Relay implements SmartLifecycle {

	private static final Log logger = LogFactory.getLog(Relay.class);

	private static final Backoff AFTER_FAILURE = new Backoff(Integer.MAX_VALUE, Duration.ofMillis(500), 2,
			Duration.ofSeconds(30));

	/**
	 * The phase of the library's lifecycles: they start before, and stop after, the
	 * application's web server and message listeners (whose transactions are still
	 * dispatched while they drain), and stop before the connection pool closes.
	 */
	static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 8192;

	private final boolean enabled;

	private final Duration pollInterval;

	private final int batchSize;

	private final SubscriberHeartbeat heartbeat;

	private final CaptureCheck captureCheck;

	private final Backlog backlog;

	private final UndispatchedRows rows;

	private final DueDeliveries deliveries;

	private final Retention retention;

	private final NotificationListener listener;

	private final Supervisor supervisor;

	private volatile Supervisor.@Nullable Loop thread;

	private volatile CountDownLatch stopped = new CountDownLatch(0);

	private int failures;

	Relay(boolean enabled, Duration pollInterval, int batchSize, SubscriberHeartbeat heartbeat,
			CaptureCheck captureCheck, Backlog backlog, UndispatchedRows rows, DueDeliveries deliveries,
			Retention retention, NotificationListener listener, Supervisor supervisor) {
		this.supervisor = supervisor;
		this.captureCheck = captureCheck;
		this.backlog = backlog;
		this.enabled = enabled;
		this.pollInterval = pollInterval;
		this.batchSize = batchSize;
		this.heartbeat = heartbeat;
		this.rows = rows;
		this.deliveries = deliveries;
		this.retention = retention;
		this.listener = listener;
	}

	@Override
	public void start() {
		if (this.thread != null) {
			return;
		}
		this.stopped = new CountDownLatch(1);
		try {
			// registered before the application serves, so other instances hand over at
			// once
			this.heartbeat.beatIfDue();
		}
		catch (RuntimeException ex) {
			logger.warn("Cannot register this instance's subscribers yet; the relay keeps trying", ex);
		}
		this.rows.start();
		if (this.enabled) {
			this.retention.start();
		}
		// a running relay keeps the JVM alive, as a scheduler or a message listener
		// container does: an instance without a web server (a worker) would otherwise
		// exit as its main method returns, and deliver nothing; it stops when the context
		// closes
		this.thread = this.supervisor.start("events-relay", !this.enabled, this::run);
	}

	/**
	 * Stop: no new claim, no further row of the batch in hand (its outcomes so far are
	 * recorded, the rest released), and the calls in progress finish.
	 */
	@Override
	public void stop() {
		Supervisor.Loop relay = this.thread;
		if (relay == null) {
			return;
		}
		this.stopped.countDown();
		try {
			if (!relay.stop(EngineThreads.LOOP_STOP)) {
				logger.warn("The relay still delivers after " + EngineThreads.LOOP_STOP.toSeconds()
						+ " s (a subscriber's call that hangs?); it stops waiting for it: what it holds is delivered "
						+ "again");
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		this.thread = null;
		this.retention.stop();
		this.rows.stop();
	}

	/**
	 * Stop in the background: the lifecycle processor waits for the callback for up to
	 * {@code spring.lifecycle.timeout-per-shutdown-phase}, and the after-commit dispatch
	 * stops alongside. A relay that does not stop in time (a subscriber call that hangs,
	 * a database that does not answer) loses its claim when the pool closes: its rows are
	 * delivered again.
	 */
	@Override
	public void stop(Runnable callback) {
		this.supervisor.background("events-relay-stop-", () -> {
			stop();
			callback.run();
		});
	}

	/**
	 * What the relay is doing, for the health check.
	 * @return {@code running}, {@code stopped}, {@code disabled} (it only keeps the
	 * registration up), or {@code dead} (its thread ended while it should run, and is not
	 * restarted)
	 */
	String state() {
		Supervisor.Loop relay = this.thread;
		if (relay == null) {
			return "stopped";
		}
		if (!relay.alive()) {
			return "dead";
		}
		return this.enabled ? "running" : "disabled";
	}

	/**
	 * The state of the listener connection, for the health check.
	 * @return {@code listening}, {@code reconnecting}, or {@code disabled} without a
	 * relay
	 */
	String listenerState() {
		if (!this.enabled) {
			return "disabled";
		}
		return this.listener.listening() ? "listening" : "reconnecting";
	}

	@Override
	public boolean isRunning() {
		return this.thread != null;
	}

	@Override
	public int getPhase() {
		return PHASE;
	}

	private boolean running() {
		return this.stopped.getCount() > 0;
	}

	private void run() {
		try {
			while (running()) {
				try {
					this.heartbeat.beatIfDue();
					this.captureCheck.checkIfDue();
					this.backlog.measureIfDue();
					int work = 0;
					if (this.enabled) {
						work = this.rows.relay(this::running) + this.deliveries.relay(this::running);
					}
					recovered();
					if (work < this.batchSize) {
						awaitWork();
					}
				}
				catch (Exception | OutOfMemoryError | StackOverflowError ex) {
					// an error of one round (an oversized result) is retried too
					failed(ex);
				}
			}
		}
		finally {
			this.rows.abandonNext();
			this.listener.close();
		}
	}

	private void awaitWork() {
		try {
			if (this.enabled) {
				this.listener.await(this.stopped);
			}
			else {
				this.stopped.await(this.pollInterval.toMillis(), TimeUnit.MILLISECONDS);
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			this.stopped.countDown();
		}
	}

	private void failed(Throwable ex) {
		if (this.failures++ == 0) {
			logger.warn("Relay failed; retrying with backoff (logged once until it recovers)", ex);
		}
		else if (logger.isDebugEnabled()) {
			logger.debug("Relay failed again (" + this.failures + " in a row)", ex);
		}
		try {
			this.stopped.await(AFTER_FAILURE.delayAfter(this.failures).toMillis(), TimeUnit.MILLISECONDS);
		}
		catch (InterruptedException interrupted) {
			Thread.currentThread().interrupt();
			this.stopped.countDown();
		}
	}

	private void recovered() {
		if (this.failures > 0) {
			logger.info("Relay recovered after " + this.failures + " failed rounds");
			this.failures = 0;
		}
	}

}
