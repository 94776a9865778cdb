package dev.pgevents.internal.dispatch;

/**
 * A forwarder's client could not take an event because it cannot reach the broker (no
 * connection, no metadata), possibly after waiting for it: the batch sends that route
 * nothing more, so that an unreachable broker holds the relay back once per batch, not
 * once per event.
 */
public final class UnreachableBrokerException extends RuntimeException {

	public UnreachableBrokerException(String message, Throwable cause) {
		super(message, cause);
	}

}
