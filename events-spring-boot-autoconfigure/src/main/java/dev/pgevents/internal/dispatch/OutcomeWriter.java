package dev.pgevents.internal.dispatch;

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

import dev.pgevents.internal.support.ThrottledLog;

/**
 * Records the after-commit dispatch's outcomes in the background: one thread writes them
 * in batches, each in one round trip and one transaction with
 * {@code synchronous_commit = off}, so that the committing threads never wait for
 * bookkeeping, nor for a disk flush of it. Losing the last batches in a crash only means
 * those rows are delivered again (at least once); a graceful stop writes everything
 * queued before the connection pool closes.
 * <p>
 * Under load, the writer lingers a little before each write, so that one write records
 * many transactions' outcomes. Under light load it writes each outcome as it comes: the
 * writes are few anyway, and a process killed then leaves fewer deliveries unrecorded,
 * which would be delivered again.
 */
final class OutcomeWriter {

	private static final Log logger = LogFactory.getLog(OutcomeWriter.class);

	private static final int BATCH = 1000;

	/**
	 * How long the writer lingers under load: what it holds is what a process killed then
	 * calls again after the restart, so no longer than the marks need to be written in
	 * batches (docs/guarantees.md).
	 */
	private static final long LINGER_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

	/** The rate of outcomes, per second, from which the writer lingers. */
	private static final int LINGER_FROM_PER_SECOND = 500;

	/** How long the rate of outcomes is measured over. */
	private static final long RATE_WINDOW_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

	private final ThrottledLog full = new ThrottledLog(logger, Duration.ofSeconds(10));

	private final ThrottledLog failures = new ThrottledLog(logger, Duration.ofSeconds(10));

	private final BlockingQueue<Queued> outcomes = new LinkedBlockingQueue<>(100_000);

	private final DeliveryLedger ledger;

	private final Supervisor supervisor;

	private volatile Supervisor.@Nullable Loop writer;

	private volatile boolean running;

	private final InstanceHold instance;

	/** Whether outcomes came fast enough, lately, for the writer to linger. */
	private boolean busy;

	private long windowStart = System.nanoTime();

	private int windowOutcomes;

	OutcomeWriter(DeliveryLedger ledger, InstanceHold instance, Supervisor supervisor) {
		this.supervisor = supervisor;
		this.ledger = ledger;
		this.instance = instance;
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
				// under load, linger a little: one write for many transactions' outcomes.
				// Asleep rather than waiting on the queue: a thread waiting on it is
				// woken by every outcome offered, which costs the committing threads and
				// this one more than the writes do
				if (this.busy && this.outcomes.size() < BATCH - 1 && this.running) {
					LockSupport.parkNanos(this, LINGER_NANOS);
				}
				this.outcomes.drainTo(batch, BATCH - 1);
				this.ledger.recordAlone(batch.stream().map(Queued::outcome).toList());
				measure(batch.size());
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

	/** Count outcomes written, and tell from their rate whether to linger. */
	private void measure(int written) {
		this.windowOutcomes += written;
		long now = System.nanoTime();
		long elapsed = now - this.windowStart;
		if (elapsed >= RATE_WINDOW_NANOS) {
			this.busy = this.windowOutcomes * TimeUnit.SECONDS.toNanos(1) / elapsed >= LINGER_FROM_PER_SECOND;
			this.windowStart = now;
			this.windowOutcomes = 0;
		}
	}

	private record Queued(UUID scope, DeliveryLedger.Outcome outcome) {
	}

}
