package dev.pgevents.internal.dispatch;

import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import dev.pgevents.internal.capture.AuditSchema;

import org.springframework.context.SmartLifecycle;

/**
 * The relay, one per instance: a thread that delivers what no after-commit dispatch did,
 * and its lifecycle. Each round it keeps this instance's subscribers registered
 * ({@link SubscriberHeartbeat}), claims undispatched audit rows
 * ({@link UndispatchedRows}) and due ledger entries ({@link DueDeliveries}), and deletes
 * what is past its retention ({@link Retention}); then, unless a full batch suggests more
 * work, it waits for a notification or the poll interval ({@link NotificationListener}).
 * Instances share the work through row locks. A failed round is retried with backoff,
 * logged once until the relay recovers.
 */
public final class Relay implements SmartLifecycle {

	private static final Log logger = LogFactory.getLog(Relay.class);

	private static final Backoff AFTER_FAILURE = new Backoff(Integer.MAX_VALUE, Duration.ofMillis(500), 2,
			Duration.ofSeconds(30));

	private final Settings settings;

	private final SubscriberHeartbeat heartbeat;

	private final UndispatchedRows rows;

	private final DueDeliveries deliveries;

	private final Retention retention;

	private final NotificationListener listener;

	private volatile @Nullable Thread thread;

	private volatile CountDownLatch stopped = new CountDownLatch(0);

	private int failures;

	/**
	 * What the relay does, and how often.
	 *
	 * @param enabled whether to claim and deliver (registration is kept up regardless)
	 * @param pollInterval how often to look for work when no notification comes
	 * @param batchSize rows claimed at once
	 * @param lease how long a claim may sit idle, a retry owns its ledger entry, and an
	 * after-commit dispatch owns its rows
	 * @param retention how long processed rows are kept; zero keeps them forever
	 */
	public record Settings(boolean enabled, Duration pollInterval, int batchSize, Duration lease, Duration retention) {
	}

	/**
	 * Create the relay and its parts.
	 * @param dataSource the audited database
	 * @param schema the audit schema
	 * @param subscribers the local subscribers
	 * @param sendEvents delivers and records
	 * @param settings what the relay does
	 */
	public Relay(DataSource dataSource, AuditSchema schema, SubscriberRegistry subscribers, SendEvents sendEvents,
			Settings settings) {
		this.settings = settings;
		this.heartbeat = new SubscriberHeartbeat(dataSource, schema, subscribers);
		this.rows = new UndispatchedRows(dataSource, schema, sendEvents, settings.batchSize(), settings.lease());
		this.deliveries = new DueDeliveries(dataSource, schema, subscribers, sendEvents, settings.batchSize(),
				settings.lease());
		this.retention = new Retention(dataSource, schema, settings.retention());
		this.listener = new NotificationListener(dataSource, schema, settings.pollInterval());
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
		Thread relay = new Thread(this::run, "events-relay");
		relay.setDaemon(true);
		this.thread = relay;
		relay.start();
	}

	@Override
	public void stop() {
		Thread relay = this.thread;
		if (relay == null) {
			return;
		}
		this.stopped.countDown();
		try {
			relay.join(TimeUnit.SECONDS.toMillis(2));
			if (relay.isAlive()) {
				// blocked on the database (a connection from an exhausted or dead pool)
				relay.interrupt();
				relay.join(TimeUnit.SECONDS.toMillis(10));
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		this.thread = null;
		this.rows.stop();
	}

	@Override
	public boolean isRunning() {
		return this.thread != null;
	}

	private boolean running() {
		return this.stopped.getCount() > 0;
	}

	private void run() {
		try {
			while (running()) {
				try {
					this.heartbeat.beatIfDue();
					int work = 0;
					if (this.settings.enabled()) {
						work = this.rows.relay(this::running) + this.deliveries.relay();
						this.retention.sweepIfDue(this::running);
					}
					recovered();
					if (work < this.settings.batchSize()) {
						awaitWork();
					}
				}
				catch (SQLException | RuntimeException ex) {
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
			if (this.settings.enabled()) {
				this.listener.await(this.stopped);
			}
			else {
				this.stopped.await(this.settings.pollInterval().toMillis(), TimeUnit.MILLISECONDS);
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			this.stopped.countDown();
		}
	}

	private void failed(Exception ex) {
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
