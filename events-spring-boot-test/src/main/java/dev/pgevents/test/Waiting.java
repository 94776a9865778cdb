package dev.pgevents.test;

import java.time.Duration;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Looks at the database again and again until a condition holds or the time is up. A
 * probe may end the wait early by throwing an {@link AssertionError} of its own.
 */
final class Waiting {

	private Waiting() {
	}

	/**
	 * Probe until the outcome is done.
	 * @param <T> what a probe returns
	 * @param timeout how long to wait at most
	 * @param probe looks once
	 * @param done whether an outcome ends the wait
	 * @param failure the message of the {@link AssertionError} thrown on timeout, from
	 * the last outcome
	 * @return the outcome that ended the wait
	 */
	static <T> T until(Duration timeout, Supplier<T> probe, Predicate<T> done, Function<T, String> failure) {
		long deadline = System.nanoTime() + timeout.toNanos();
		while (true) {
			T outcome = probe.get();
			if (done.test(outcome)) {
				return outcome;
			}
			if (System.nanoTime() - deadline >= 0) {
				throw new AssertionError(failure.apply(outcome));
			}
			try {
				Thread.sleep(RecordedEvents.POLL_INTERVAL.toMillis());
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				throw new AssertionError("Interrupted while waiting for events", ex);
			}
		}
	}

}
