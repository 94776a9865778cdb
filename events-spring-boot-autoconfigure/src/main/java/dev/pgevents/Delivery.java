package dev.pgevents;

import java.time.Instant;

import org.jspecify.annotations.Nullable;

/**
 * The delivery of one event to one subscriber that did not succeed at the first try, or
 * that was handed to another instance: an entry of the delivery ledger.
 *
 * @param eventId the event ({@link Event#id()})
 * @param subscriber the subscriber name
 * @param eventName the event name
 * @param status where the delivery stands
 * @param attempts the attempts made so far (since the last replay)
 * @param nextAttemptAt when a pending delivery is tried next
 * @param lastError class and message of the last failure, or {@code null}
 * @param replays how many times the delivery was replayed
 * @param createdAt when the delivery entered the ledger
 * @param updatedAt when it last changed
 */
public record Delivery(String eventId, String subscriber, String eventName, Status status, int attempts,
		Instant nextAttemptAt, @Nullable String lastError, int replays, Instant createdAt, Instant updatedAt) {

	/**
	 * Where a delivery stands.
	 */
	public enum Status {

		/** Waiting for its next attempt. */
		PENDING,

		/** Delivered. */
		DELIVERED,

		/**
		 * Given up after the last attempt, or undeliverable; waits for a replay. For an
		 * ordered subscriber its row is parked: the row's later events wait behind it
		 * until it is replayed or skipped.
		 */
		DEAD,

		/**
		 * A dead letter skipped ({@link EventDeliveries#skip}): never delivered, and no
		 * longer holding back its row's later events.
		 */
		SKIPPED

	}

}
