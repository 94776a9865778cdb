package dev.pgevents.dispatch;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import dev.pgevents.capture.AuditSchema;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Records the outcome of deliveries: audit rows whose every subscriber has been called
 * are marked processed, and each failed (row, subscriber) pair goes into the delivery
 * ledger to be retried. Outcomes are written by one background thread in batches, each
 * batch in one transaction with {@code synchronous_commit = off}: losing the last batches
 * in a crash only means those rows are delivered again (at least once), and the committing
 * threads never wait for a disk flush of bookkeeping.
 */
final class DeliveryLedger implements AutoCloseable {

	private static final Log logger = LogFactory.getLog(DeliveryLedger.class);

	private static final int BATCH = 1000;

	private final BlockingQueue<Outcome> outcomes = new LinkedBlockingQueue<>(100_000);

	private final JdbcTemplate jdbc;

	private final TransactionTemplate transactions;

	private final String markProcessed;

	private final String recordFailure;

	private final Thread writer;

	private volatile boolean running = true;

	DeliveryLedger(DataSource dataSource, AuditSchema schema) {
		this.jdbc = new JdbcTemplate(dataSource);
		this.transactions = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
		this.markProcessed = "UPDATE " + schema.auditTable()
				+ " SET event_processed_at = clock_timestamp() WHERE id = ANY(?)";
		this.recordFailure = "INSERT INTO " + schema.deliveryTable()
				+ " AS d (audit_id, subscriber, attempts, next_attempt_at, last_error) VALUES (?, ?, 1, clock_timestamp(), ?)"
				+ " ON CONFLICT (audit_id, subscriber) DO UPDATE SET attempts = d.attempts + 1,"
				+ " next_attempt_at = excluded.next_attempt_at, last_error = excluded.last_error,"
				+ " updated_at = clock_timestamp()";
		this.writer = new Thread(this::writeLoop, "events-ledger");
		this.writer.setDaemon(true);
		this.writer.start();
	}

	/**
	 * Record that every subscriber of an audit row has been called.
	 * @param auditId the audit row
	 * @param failures the subscribers that failed, empty when all succeeded
	 */
	void delivered(long auditId, List<Failure> failures) {
		if (!this.outcomes.offer(new Outcome(auditId, failures))) {
			// full: the row stays unprocessed, and is delivered again later
			logger.warn("Delivery ledger is full; audit row " + auditId + " will be delivered again");
		}
	}

	private void writeLoop() {
		List<Outcome> batch = new ArrayList<>(BATCH);
		while (this.running || !this.outcomes.isEmpty()) {
			try {
				Outcome first = this.outcomes.poll(100, TimeUnit.MILLISECONDS);
				if (first == null) {
					continue;
				}
				batch.add(first);
				this.outcomes.drainTo(batch, BATCH - 1);
				write(batch);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				return;
			}
			catch (RuntimeException ex) {
				logger.warn("Cannot record " + batch.size() + " deliveries; those events will be delivered again", ex);
			}
			finally {
				batch.clear();
			}
		}
	}

	private void write(List<Outcome> batch) {
		Long[] ids = batch.stream().map(Outcome::auditId).toArray(Long[]::new);
		List<Object[]> failures = batch.stream()
			.flatMap((outcome) -> outcome.failures()
				.stream()
				.map((failure) -> new Object[] { outcome.auditId(), failure.subscriber(), failure.error() }))
			.toList();
		this.transactions.executeWithoutResult((status) -> {
			this.jdbc.execute("SET LOCAL synchronous_commit = off");
			if (!failures.isEmpty()) {
				this.jdbc.batchUpdate(this.recordFailure, failures);
			}
			this.jdbc.update(this.markProcessed, (ps) -> ps.setArray(1, ps.getConnection().createArrayOf("bigint", ids)));
		});
	}

	/**
	 * Write what is queued and stop.
	 */
	@Override
	public void close() throws InterruptedException {
		this.running = false;
		this.writer.join(TimeUnit.SECONDS.toMillis(10));
	}

	/**
	 * A subscriber that failed to take an event.
	 *
	 * @param subscriber the subscriber name
	 * @param error the failure's class and message
	 */
	record Failure(String subscriber, String error) {

		static Failure of(String subscriber, Throwable ex) {
			String error = ex.getClass().getName() + ": " + ex.getMessage();
			return new Failure(subscriber, (error.length() > 2000) ? error.substring(0, 2000) : error);
		}

	}

	private record Outcome(long auditId, List<Failure> failures) {
	}

}
