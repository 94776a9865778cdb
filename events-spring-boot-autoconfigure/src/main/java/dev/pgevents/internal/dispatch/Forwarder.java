package dev.pgevents.internal.dispatch;

import java.util.concurrent.CompletableFuture;

import dev.pgevents.Event;

/**
 * Sends events to a broker for a forwarding route.
 */
public interface Forwarder {

	/**
	 * Send an event without waiting for the broker, so that a batch is sent pipelined.
	 * @param event the event
	 * @param traceparent the W3C {@code traceparent} of the transaction that made the
	 * change
	 * @return completes once the broker acknowledged the event, exceptionally when it did
	 * not take it
	 * @throws UnreachableBrokerException when the client cannot reach the broker to take
	 * the event
	 */
	CompletableFuture<?> send(Event event, String traceparent);

	/**
	 * A batch is sent: send at once what the client holds back to send together (Kafka's
	 * {@code linger.ms}), since the relay is about to wait for it. May wait for the
	 * broker's answers.
	 */
	default void flush() {
	}

	/**
	 * A batch is abandoned (the relay failed before flushing it): drop what the client
	 * holds back for it, failing its sends, since the batch's events are sent again.
	 */
	default void discard() {
	}

	/**
	 * Release what the forwarder opened (its producer), once the relay has stopped.
	 */
	default void close() {
	}

}
