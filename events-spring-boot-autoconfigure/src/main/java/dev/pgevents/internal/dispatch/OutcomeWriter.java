package dev.pgevents.internal.dispatch;

import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import dev.pgevents.internal.capture.OwnTransactions;
import dev.pgevents.internal.support.ThrottledLog;

import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Records the after-commit dispatch's outcomes in the background: one thread writes them
 * in batches, each in one transaction with {@code synchronous_commit = off}, so that the
 * committing threads never wait for bookkeeping, nor for a disk flush of it. Losing the
 * last batches in a crash only means those rows are delivered again (at least once); a
 * graceful stop writes everything queued before the connection pool closes.
 */
final class OutcomeWriter {

	private static final Log logger = LogFactory.getLog(OutcomeWriter.class);

	private static final int BATCH = 1000;

	private static final long LINGER_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

	private final ThrottledLog full = new ThrottledLog(logger, Duration.ofSeconds(10));

	private final ThrottledLog failures = new ThrottledLog(logger, Duration.ofSeconds(10));

	private final BlockingQueue<Queued> outcomes = new LinkedBlockingQueue<>(100_000);

	private final DeliveryLedger ledger;

	private final JdbcTemplate jdbc;

	private final OwnTransactions transactions;

	private final Supervisor supervisor;

	private volatile Supervisor.@Nullable Loop writer;

	private volatile boolean running;

	private final InstanceHold instance;

	OutcomeWriter(OwnTransactions transactions, DeliveryLedger ledger, InstanceHold instance, Supervisor supervisor) {
		this.supervisor = supervisor;
		this.ledger = ledger;
		this.instance = instance;
		this.jdbc = new CustomPlanJdbc(transactions.dataSource());
		this.transactions = transactions;
	}

	/**
	 * Queue the outcome of a row whose local subscribers have all been called.
	 * @param scope the scope of the row's transaction, given up if the outcome cannot be
	 * written
	 * @param outcome the row's outcome
	 */
	void record(UUID scope, DeliveryLedger.Outcome outcome) {
		if (!this.outcomes.offer(new Queued(scope, outcome))) {
			// full: the row stays unprocessed, and is delivered again later
			this.instance.giveUp(scope);
			this.full.warn("The queue of delivery outcomes is full; audit row " + outcome.auditId()
					+ " and the others not recorded will be delivered again", null);
		}
	}

	synchronized void start() {
		if (this.writer != null) {
			return;
		}
		this.running = true;
		this.writer = this.supervisor.start("events-ledger", true, this::writeLoop);
	}

	/**
	 * Write what is queued and stop; what cannot be written within {@code timeout} (the
	 * database does not answer) is delivered again later.
	 * @param timeout how long to wait for the queue to be written
	 */
	synchronized void stop(Duration timeout) {
		Supervisor.Loop writer = this.writer;
		if (writer == null) {
			return;
		}
		this.running = false;
		try {
			if (!writer.stop(timeout)) {
				writer.interrupt();
				writer.stop(Duration.ofSeconds(5));
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		this.writer = null;
	}

	private void writeLoop() {
		List<Queued> batch = new ArrayList<>(BATCH);
		while (this.running || !this.outcomes.isEmpty()) {
			try {
				Queued first = this.outcomes.poll(100, TimeUnit.MILLISECONDS);
				if (first == null) {
					continue;
				}
				batch.add(first);
				// linger a little, one write for many transactions' outcomes, asleep
				// rather than waiting on the queue: a thread waiting on it is woken by
				// every outcome offered, which costs the committing threads and this one
				// more than the writes do
				if (this.outcomes.size() < BATCH - 1 && this.running) {
					LockSupport.parkNanos(this, LINGER_NANOS);
				}
				this.outcomes.drainTo(batch, BATCH - 1);
				this.transactions.write((status) -> this.jdbc.execute((Connection connection) -> {
					DeliveryLedger.bookkeeping(connection, Duration.ZERO);
					this.ledger.record(connection, batch.stream().map(Queued::outcome).toList());
					return Boolean.TRUE;
				}));
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				return;
			}
			catch (RuntimeException | OutOfMemoryError | StackOverflowError ex) {
				batch.forEach((queued) -> this.instance.giveUp(queued.scope()));
				this.failures
					.warn("Cannot record " + batch.size() + " deliveries; those events will be delivered again", ex);
			}
			finally {
				batch.clear();
			}
		}
	}

	private record Queued(UUID scope, DeliveryLedger.Outcome outcome) {
	}

}
