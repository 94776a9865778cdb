package dev.pgevents.internal.dispatch;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.jspecify.annotations.Nullable;

/**
 * The subscriber call a claim is waiting for, if any: what the keeper reports when it
 * runs long.
 */
final class CallInProgress {

	private volatile @Nullable String call;

	private volatile long started;

	private volatile long reported;

	<T> T run(String what, Supplier<T> call) {
		this.started = System.nanoTime();
		this.reported = this.started;
		this.call = what;
		try {
			return call.get();
		}
		finally {
			this.call = null;
		}
	}

	/**
	 * The call in progress, if it has run for longer than {@code every} since it started
	 * or was last reported.
	 * @param every how often a long call is reported
	 * @return the call and how long it has run, or {@code null}
	 */
	@Nullable String longCall(Duration every) {
		String call = this.call;
		long now = System.nanoTime();
		if (call == null || now - this.reported < every.toNanos()) {
			return null;
		}
		this.reported = now;
		return call + " has been running for " + TimeUnit.NANOSECONDS.toSeconds(now - this.started) + " s";
	}

}
