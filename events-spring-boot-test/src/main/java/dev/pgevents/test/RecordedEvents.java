package dev.pgevents.test;

import java.time.Duration;
import java.util.List;

import org.assertj.core.api.AssertProvider;

import dev.pgevents.Delivery;
import dev.pgevents.Event;
import dev.pgevents.kit.EventLog;

import org.springframework.test.context.transaction.TestTransaction;

/**
 * The events of the application's audited tables that committed since the test method
 * began: every change, whether or not a subscriber takes it, whoever wrote it (the
 * application, another process, a subscriber), in the order the changes were written
 * (which is their commit order for transactions that do not run at the same time).
 * Recording starts again before each test method ({@link #clear()}).
 * <p>
 * A change is recorded when it commits: a {@code @Transactional} test method, which
 * Spring rolls back at its end, produces no events, and that is the library working.
 * {@link #commitTestTransaction()} commits such a method's writes so far.
 * <p>
 * For AssertJ, {@code assertThat(recordedEvents)} gives {@link RecordedEventsAssert}:
 * <pre class="code">
 * members.register("ada@example.com");
 * assertThat(recordedEvents).contains("member.created").singleElement()
 *     .hasData("email", "ada@example.com");
 * </pre>
 */
public final class RecordedEvents implements AssertProvider<RecordedEventsAssert> {

	/** How often {@link #awaitQuiet} looks again. */
	static final Duration POLL_INTERVAL = Duration.ofMillis(20);

	private final EventLog log;

	private volatile EventLog.Position start;

	RecordedEvents(EventLog log) {
		this.log = log;
		this.start = log.position();
	}

	/**
	 * The recorded events.
	 * @return every change committed since recording started, oldest first
	 */
	public List<Event> all() {
		return this.log.events(this.start.end());
	}

	/**
	 * The recorded events of one name, or of a pattern.
	 * @param eventName an event name, for example {@code member.created}, or a pattern
	 * ({@code member.*}, {@code *.deleted}: see {@link Event#matches})
	 * @return those events, oldest first
	 */
	public List<Event> named(String eventName) {
		return all().stream().filter((event) -> event.matches(eventName)).toList();
	}

	/**
	 * The ledger entries of the recorded events: deliveries to this application's
	 * subscribers that failed at least once (waiting for a retry, delivered by one, or
	 * dead-lettered), with their attempts and last error.
	 * @return the entries, in the order of their events
	 */
	public List<Delivery> deliveries() {
		return this.log.deliveries(this.start.end());
	}

	/**
	 * The dead letters among {@link #deliveries()}.
	 * @return the deliveries given up after their last attempt, or undeliverable
	 */
	public List<Delivery> deadLetters() {
		return deliveries().stream().filter((delivery) -> delivery.status() == Delivery.Status.DEAD).toList();
	}

	/**
	 * Wait until every recorded change has been handed to each of this application's
	 * subscribers that takes it, or dead-lettered for it: after-commit dispatch, the
	 * dispatch executor (async mode), the relay (outside writes) and retries alike; and
	 * until what was queued again since recording started (a replay, a rewind, a
	 * backfill) has been delivered too.
	 * @param timeout how long to wait at most
	 * @throws AssertionError on timeout, naming what is still waiting: the events, their
	 * subscribers, the attempts made and the last error
	 */
	public void awaitQuiet(Duration timeout) {
		Waiting.until(timeout, () -> this.log.outstanding(this.start, 20), List::isEmpty,
				(outstanding) -> EventDescriptions.notQuiet(timeout, outstanding, this.log.subscribers()));
	}

	/**
	 * Start recording again: events committed before this call are no longer recorded.
	 * Called before each test method.
	 */
	public void clear() {
		this.start = this.log.position();
	}

	/**
	 * Commit the writes of the running {@code @Transactional} test method so far, so that
	 * they become events, and continue the method in a new transaction (rolled back at
	 * its end as usual). What was committed stays in the database.
	 * @throws IllegalStateException when the test method runs in no test-managed
	 * transaction
	 */
	public void commitTestTransaction() {
		if (!TestTransaction.isActive()) {
			throw new IllegalStateException("No test-managed transaction is active: commitTestTransaction() is for "
					+ "@Transactional test methods, whose writes Spring rolls back at their end. Outside of "
					+ "one, the writes of the code under test commit as they would in the application.");
		}
		TestTransaction.flagForCommit();
		TestTransaction.end();
		TestTransaction.start();
	}

	/**
	 * The position recording starts after.
	 * @return an audit row id
	 */
	long start() {
		return this.start.end();
	}

	@Override
	public RecordedEventsAssert assertThat() {
		return new RecordedEventsAssert(this);
	}

}
