package dev.pgevents.internal.dispatch;

/**
 * An event whose data cannot be bound to a subscriber's parameter: retrying cannot help.
 */
final class UnbindableEventException extends IllegalArgumentException {

	UnbindableEventException(String message, Throwable cause) {
		super(message, cause);
	}

}
