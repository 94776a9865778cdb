package dev.pgevents.internal.dispatch;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import dev.pgevents.internal.capture.AuditSchema;

/**
 * Deletes processed audit rows older than the retention, with their ledger entries, on a
 * thread and connections of its own, off the relay's path. It walks the table in the
 * primary key's order, which is the order rows were written in, a window of rows at a
 * time: each window is one short statement that reads the next rows by key, and one that
 * deletes those due. A lap ends at the first row younger than the retention, and its
 * first window is small, so a lap with nothing due reads a few rows, whatever the table's
 * size. Rows with a delivery still pending or dead-lettered, and rows locked by others,
 * are kept (the next lap looks at them again). Between windows it rests as long as the
 * last one took, and after a pass of {@link #PASS_BUDGET} for a second, so the
 * application's transactions and the relay keep most of the database while a large
 * backlog is deleted.
 */
final class Retention {

	private static final Log logger = LogFactory.getLog(Retention.class);

	/**
	 * The rows a lap's first window reads; each further window reads twice as many, up to
	 * {@link #WINDOW}: a lap with nothing due reads a handful of rows.
	 */
	private static final int FIRST_WINDOW = 16;

	/** The most rows a window reads. */
	private static final int WINDOW = 1000;

	/** How long a pass deletes before it rests. */
	static final Duration PASS_BUDGET = Duration.ofSeconds(5);

	private static final Duration REST = Duration.ofSeconds(1);

	private static final Backoff AFTER_FAILURE = new Backoff(Integer.MAX_VALUE, Duration.ofSeconds(1), 2,
			Duration.ofMinutes(1));

	private final DataSource dataSource;

	private final Duration retention;

	private final Supervisor supervisor;

	private final String window;

	private final String delete;

	private volatile CountDownLatch stopped = new CountDownLatch(0);

	private volatile Supervisor.@Nullable Loop loop;

	/** The key the lap goes on after; zero starts a lap at the table's first row. */
	private long cursor;

	private int windowSize = FIRST_WINDOW;

	private int failures;

	/**
	 * @param retention how long processed rows are kept; zero keeps them forever
	 */
	Retention(DataSource dataSource, AuditSchema schema, Duration retention, Supervisor supervisor) {
		this.dataSource = dataSource;
		this.retention = retention;
		this.supervisor = supervisor;
		String finished = "a.event_processed_at IS NOT NULL AND NOT EXISTS (SELECT FROM %s d WHERE d.audit_id = a.id"
			.formatted(schema.deliveryTable()) + " AND d.status NOT IN ('" + LedgerStatus.DELIVERED + "', '"
				+ LedgerStatus.SKIPPED + "'))";
		// whether a row is finished is asked only of rows past the retention
		String old = "a.created_at < clock_timestamp() - ? * interval '1 millisecond'";
		this.window = "SELECT a.id, " + old + ", CASE WHEN " + old + " THEN " + finished + " END FROM "
				+ schema.auditTable() + " a WHERE a.id > ? ORDER BY a.id LIMIT ?";
		this.delete = """
				WITH gone AS (
					DELETE FROM %1$s WHERE id IN (
						SELECT a.id FROM %1$s a WHERE a.id = ANY (?) AND %3$s
						FOR UPDATE SKIP LOCKED)
					RETURNING id)
				DELETE FROM %2$s d USING gone WHERE d.audit_id = gone.id
				""".formatted(schema.auditTable(), schema.deliveryTable(), finished);
	}

	/**
	 * Start deleting, unless the retention is zero.
	 */
	void start() {
		if (this.retention.isZero() || this.loop != null) {
			return;
		}
		this.stopped = new CountDownLatch(1);
		this.loop = this.supervisor.start("events-retention", true, this::run);
	}

	/**
	 * Stop: the statement in progress finishes, no further one starts.
	 */
	void stop() {
		Supervisor.Loop running = this.loop;
		if (running == null) {
			return;
		}
		this.stopped.countDown();
		try {
			running.stop(EngineThreads.LOOP_STOP);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		this.loop = null;
	}

	private void run() {
		while (this.stopped.getCount() > 0) {
			Duration rest;
			try {
				rest = pass();
				if (this.failures > 0) {
					logger.info("Retention recovered after " + this.failures + " failed passes");
					this.failures = 0;
				}
			}
			catch (Exception | OutOfMemoryError | StackOverflowError ex) {
				if (this.failures++ == 0) {
					logger.warn("Cannot delete what is past events.retention; retrying with backoff (logged once "
							+ "until it recovers)", ex);
				}
				rest = AFTER_FAILURE.delayAfter(this.failures);
			}
			if (!rest(rest)) {
				return;
			}
		}
	}

	/**
	 * Delete windows of due rows until the lap ends, the pass's budget is spent, or the
	 * retention stops.
	 * @return how long to rest before the next pass
	 */
	Duration pass() throws SQLException {
		long deadline = System.nanoTime() + PASS_BUDGET.toNanos();
		while (this.stopped.getCount() > 0) {
			long started = System.nanoTime();
			if (sweep()) {
				// the lap reached rows younger than the retention: the next starts over
				return (this.retention.compareTo(Duration.ofMinutes(1)) < 0) ? this.retention : Duration.ofMinutes(1);
			}
			long took = System.nanoTime() - started;
			if (System.nanoTime() + took > deadline) {
				return REST;
			}
			if (!rest(Duration.ofNanos(took))) {
				break;
			}
		}
		return Duration.ZERO;
	}

	/**
	 * Read the next window and delete its due rows.
	 * @return whether the lap ended
	 */
	private boolean sweep() throws SQLException {
		try (Connection connection = this.dataSource.getConnection()) {
			List<Long> due = new ArrayList<>();
			boolean younger = false;
			int read = 0;
			long last = this.cursor;
			try (PreparedStatement window = connection.prepareStatement(this.window)) {
				window.setLong(1, this.retention.toMillis());
				window.setLong(2, this.retention.toMillis());
				window.setLong(3, this.cursor);
				window.setInt(4, this.windowSize);
				try (ResultSet rs = window.executeQuery()) {
					while (!younger && rs.next()) {
						read++;
						younger = !rs.getBoolean(2); // and so are the rows after it
						if (!younger) {
							last = rs.getLong(1);
							if (rs.getBoolean(3)) {
								due.add(last);
							}
						}
					}
				}
			}
			if (!due.isEmpty()) {
				try (PreparedStatement delete = connection.prepareStatement(this.delete)) {
					delete.setArray(1, connection.createArrayOf("bigint", due.toArray()));
					delete.executeUpdate();
				}
			}
			boolean ended = younger || read < this.windowSize;
			this.cursor = ended ? 0 : last;
			this.windowSize = ended ? FIRST_WINDOW : Math.min(WINDOW, 2 * this.windowSize);
			return ended;
		}
	}

	private boolean rest(Duration rest) {
		try {
			return !this.stopped.await(rest.toMillis(), TimeUnit.MILLISECONDS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return false;
		}
	}

}
