package dev.pgevents.internal.dispatch;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * When a failed delivery is tried again: exponential backoff with jitter, capped, for a
 * limited number of attempts.
 *
 * @param maxAttempts attempts in all, the first included; after the last the delivery is
 * dead-lettered
 * @param initialDelay the delay after the first attempt
 * @param multiplier the factor applied to the delay after each further attempt
 * @param maxDelay the longest delay
 */
public record Backoff(int maxAttempts, Duration initialDelay, double multiplier, Duration maxDelay) {

	/**
	 * Whether a delivery that has failed {@code attempts} times is given up.
	 * @param attempts the failed attempts so far
	 * @return whether no attempt is left
	 */
	boolean exhausted(int attempts) {
		return attempts >= this.maxAttempts;
	}

	/**
	 * The delay before the next attempt of a delivery that failed {@code attempts} times:
	 * between half and all of {@code initialDelay * multiplier^(attempts - 1)}, at most
	 * {@code maxDelay}. The jitter keeps the failures of one outage from retrying in
	 * step.
	 * @param attempts the failed attempts so far, at least 1
	 * @return the delay
	 */
	Duration delayAfter(int attempts) {
		double delay = this.initialDelay.toMillis() * Math.pow(this.multiplier, Math.max(0, attempts - 1));
		long capped = (long) Math.min(delay, this.maxDelay.toMillis());
		return Duration.ofMillis(capped / 2 + ThreadLocalRandom.current().nextLong(capped / 2 + 1));
	}

}
