package dev.pgevents.internal.dispatch;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

import dev.pgevents.internal.capture.AuditSchema;

/**
 * The relay's connection that {@code LISTEN}s on the audit channel, so that it wakes as
 * soon as rows need it, rather than at its next poll. The connection is opened when first
 * needed; when it breaks, the relay polls until it is opened again, with backoff, and the
 * loss is logged once.
 */
final class NotificationListener implements AutoCloseable {

	private static final Log logger = LogFactory.getLog(NotificationListener.class);

	private static final Backoff RECONNECT = new Backoff(Integer.MAX_VALUE, Duration.ofSeconds(1), 2,
			Duration.ofSeconds(30));

	private final DataSource dataSource;

	private final String listen;

	private final Duration pollInterval;

	private volatile @Nullable Connection connection;

	private long nextAttempt;

	private int failures;

	NotificationListener(DataSource dataSource, AuditSchema schema, Duration pollInterval) {
		this.dataSource = dataSource;
		this.listen = schema.listenStatement();
		this.pollInterval = pollInterval;
	}

	/**
	 * Wait for a notification, at most the poll interval, or until {@code stopped} counts
	 * down; without a connection (it broke, and reconnecting backs off), just wait. Once
	 * the connection is (re)opened it returns at once: rows written after the relay last
	 * looked and before {@code LISTEN} took effect sent a notification no one received.
	 * @param stopped counted down when the relay stops
	 * @throws InterruptedException when interrupted while waiting
	 */
	void await(CountDownLatch stopped) throws InterruptedException {
		long deadline = System.nanoTime() + this.pollInterval.toNanos();
		boolean wasListening = this.connection != null;
		Connection listening = connection();
		if (listening != null && !wasListening) {
			return;
		}
		try {
			while (stopped.getCount() > 0 && System.nanoTime() - deadline < 0) {
				long slice = Math.min(200, Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
				if (listening == null) {
					stopped.await(slice, TimeUnit.MILLISECONDS);
					continue;
				}
				PGNotification[] notifications = listening.unwrap(PGConnection.class).getNotifications((int) slice);
				if (notifications != null && notifications.length > 0) {
					return;
				}
			}
		}
		catch (SQLException ex) {
			failed(ex);
		}
	}

	private @Nullable Connection connection() {
		if (this.connection != null || System.nanoTime() - this.nextAttempt < 0) {
			return this.connection;
		}
		try {
			this.connection = listening(this.dataSource.getConnection());
			if (this.failures > 0) {
				logger.info("Relay listens for new rows again");
			}
			this.failures = 0;
		}
		catch (SQLException ex) {
			failed(ex);
		}
		return this.connection;
	}

	/**
	 * Start listening on a connection, or give it back to the pool when that fails: a
	 * connection taken from a pool whose server restarted may be dead.
	 */
	private Connection listening(Connection opened) throws SQLException {
		// in autocommit (the starter's connections are): LISTEN takes effect at once
		try (Statement statement = opened.createStatement()) {
			statement.execute(this.listen);
			return opened;
		}
		catch (SQLException | RuntimeException ex) {
			try {
				opened.close();
			}
			catch (SQLException closing) {
				ex.addSuppressed(closing);
			}
			throw ex;
		}
	}

	private void failed(SQLException ex) {
		close();
		if (this.failures++ == 0) {
			logger.warn("Relay lost its listener connection; it polls every " + this.pollInterval
					+ " until the connection is back (logged once)", ex);
		}
		this.nextAttempt = System.nanoTime() + RECONNECT.delayAfter(this.failures).toNanos();
	}

	/**
	 * Whether the listener connection is open (otherwise it reconnects, with backoff).
	 * @return whether the relay is woken by notifications
	 */
	boolean listening() {
		return this.connection != null;
	}

	@Override
	public void close() {
		if (this.connection != null) {
			try {
				this.connection.close();
			}
			catch (SQLException ex) {
				// already broken
			}
			this.connection = null;
		}
	}

}
