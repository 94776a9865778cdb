package dev.pgevents.internal.capture;

import org.jspecify.annotations.Nullable;

/**
 * The event whose subscriber the current thread is calling, and the depth of its chain:
 * the changes the subscriber writes record them (the capture function's
 * {@code pgevents.cause}), so that a chain of events can be followed and a loop stopped.
 * A subscriber that hands its writes to another thread leaves them without a cause.
 */
public final class Causation {

	private static final ThreadLocal<@Nullable Cause> CURRENT = new ThreadLocal<>();

	private Causation() {
	}

	/**
	 * Run a subscriber call with its cause, restoring the one before (a call nested in
	 * another, as a subscriber's own transaction is dispatched after it commits).
	 * @param cause the event the call delivers, and the depth of the changes it makes
	 * @param call the call
	 * @throws Exception what the call threw
	 */
	public static void during(Cause cause, Call call) throws Exception {
		Cause before = CURRENT.get();
		CURRENT.set(cause);
		try {
			call.run();
		}
		finally {
			if (before != null) {
				CURRENT.set(before);
			}
			else {
				CURRENT.remove();
			}
		}
	}

	static @Nullable Cause current() {
		return CURRENT.get();
	}

	/**
	 * A subscriber call.
	 */
	@FunctionalInterface
	public interface Call {

		void run() throws Exception;

	}

	/**
	 * What caused the changes a subscriber writes.
	 *
	 * @param eventId the event delivered to the subscriber
	 * @param depth the depth of the changes it writes: the event's own plus one
	 */
	public record Cause(long eventId, int depth) {

		/** As the capture function reads it. */
		String setting() {
			return this.eventId + "/" + this.depth;
		}

	}

}
