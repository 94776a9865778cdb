package dev.pgevents.internal.dispatch;

import java.time.Duration;
import java.util.Map;

import dev.pgevents.Event;

/**
 * Told what the delivery engine does, for metrics: every subscriber call on every path,
 * and the backlog the relay measures. Called on the delivering threads: implementations
 * must be cheap and never throw.
 */
public interface DeliveryObserver {

	/** Observes nothing. */
	DeliveryObserver NONE = new DeliveryObserver() {
	};

	/**
	 * A subscriber call ended, or an event could not be made for it.
	 * @param subscriber the subscriber
	 * @param eventName the event's name
	 * @param path the path the call took
	 * @param latency from the row's write to the start of the call
	 * @param outcome what came of it
	 */
	default void called(String subscriber, String eventName, Path path, Duration latency, Outcome outcome) {
	}

	/**
	 * A delivery was dead-lettered because its event is too deep in a chain of events
	 * that subscribers caused (an event loop).
	 * @param subscriber the subscriber
	 * @param eventName the event's name
	 */
	default void chainStopped(String subscriber, String eventName) {
	}

	/**
	 * Make a subscriber call, observed (in a span that continues the trace of the
	 * transaction that wrote the row, for example).
	 * @param subscriber the subscriber
	 * @param event the event
	 * @param traceparent the W3C trace context of the transaction that wrote the row
	 * @param path the path the call takes
	 * @param call the call
	 * @throws Exception what the call threw
	 */
	default void observe(String subscriber, Event event, String traceparent, Path path, Call call) throws Exception {
		call.run();
	}

	/**
	 * The backlog, as the relay last measured it.
	 * @param pending undispatched audit rows plus deliveries waiting for a retry
	 * @param dead dead-lettered deliveries
	 * @param lag the age of the oldest undispatched row or overdue retry, zero when there
	 * is none
	 * @param parked per ordered subscriber, the rows parked behind a dead letter
	 */
	default void backlog(long pending, long dead, Duration lag, Map<String, Long> parked) {
	}

	/**
	 * Whether the observer wants the backlog measured (a query every few seconds).
	 * @return whether {@link #backlog} is of use
	 */
	default boolean wantsBacklog() {
		return false;
	}

	/**
	 * A subscriber call.
	 */
	@FunctionalInterface
	interface Call {

		void run() throws Exception;

	}

	/**
	 * The path a delivery took.
	 */
	enum Path {

		/** After commit, in the committing thread or the dispatch executor. */
		DISPATCH,

		/** By the relay: outside writes, rows of instances that are gone. */
		RELAY,

		/** A retry or replay of a ledger entry. */
		RETRY

	}

	/**
	 * What came of a call.
	 */
	enum Outcome {

		/** The subscriber took the event. */
		DELIVERED,

		/** It failed, and will be retried. */
		FAILED,

		/** It failed, and was dead-lettered. */
		DEAD

	}

}
