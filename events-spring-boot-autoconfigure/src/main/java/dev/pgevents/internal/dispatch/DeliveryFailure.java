package dev.pgevents.internal.dispatch;

import java.lang.reflect.InvocationTargetException;
import java.time.Duration;

/**
 * A subscriber that did not take an event: it failed, or (ordered) the event waits behind
 * an earlier one of its row.
 *
 * @param subscriber the subscriber name
 * @param error the failure's class and message
 * @param dead whether to give up (no attempt left, or retrying cannot help)
 * @param delay when to try again, if not given up
 * @param waiting whether no attempt was made: the event waits for its turn
 */
record DeliveryFailure(String subscriber, String error, boolean dead, Duration delay, boolean waiting) {

	DeliveryFailure(String subscriber, String error, boolean dead, Duration delay) {
		this(subscriber, error, dead, delay, false);
	}

	/**
	 * An event that waits behind an earlier one of its row, for an ordered subscriber.
	 * @param subscriber the subscriber
	 * @return the entry to record
	 */
	static DeliveryFailure waiting(String subscriber) {
		return new DeliveryFailure(subscriber, "", false, Duration.ZERO, true);
	}

	/**
	 * The failure of attempt number {@code attempts}.
	 * @param subscriber the subscriber
	 * @param ex what it threw
	 * @param attempts the attempts made, this one included
	 * @param backoff when to try again
	 * @return the failure
	 */
	static DeliveryFailure of(String subscriber, Throwable ex, int attempts, Backoff backoff) {
		// an Error a subscriber method threw arrives wrapped by reflection: record it
		Throwable wrapped = (ex instanceof InvocationTargetException invocation) ? invocation.getCause() : null;
		boolean dead = ex instanceof UnbindableEventException || backoff.exhausted(attempts);
		return new DeliveryFailure(subscriber, describe("", (wrapped != null) ? wrapped : ex), dead,
				dead ? Duration.ZERO : backoff.delayAfter(attempts));
	}

	/**
	 * What is recorded of a failure: its class and message, at most 2,000 characters.
	 * @param prefix what precedes them
	 * @param ex the failure
	 * @return the description
	 */
	static String describe(String prefix, Throwable ex) {
		String error = prefix + ex.getClass().getName() + ": " + ex.getMessage();
		return (error.length() > 2000) ? error.substring(0, 2000) : error;
	}

}
