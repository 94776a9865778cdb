package dev.pgevents;

import java.time.Instant;

import org.jspecify.annotations.Nullable;

/**
 * Which deliveries {@link EventDeliveries} finds or replays; every criterion left
 * {@code null} matches all. Start from {@link #dead()} or {@link #pending()} and narrow
 * it: {@code DeliveryQuery.dead().subscriber("verifyEmail").since(yesterday)}.
 *
 * @param status the status
 * @param subscriber the subscriber name
 * @param eventName the event name, or a pattern as in {@link EventSubscriber#value()}
 * ({@code member.*}, {@code *.deleted})
 * @param since entered the ledger at or after this instant
 * @param until entered the ledger before this instant
 * @param limit at most this many (newest first), for {@code find}
 */
public record DeliveryQuery(Delivery.@Nullable Status status, @Nullable String subscriber, @Nullable String eventName,
		@Nullable Instant since, @Nullable Instant until, int limit) {

	/** The default limit. */
	public static final int DEFAULT_LIMIT = 100;

	/**
	 * Dead-lettered deliveries.
	 * @return the query
	 */
	public static DeliveryQuery dead() {
		return new DeliveryQuery(Delivery.Status.DEAD, null, null, null, null, DEFAULT_LIMIT);
	}

	/**
	 * Deliveries waiting for an attempt.
	 * @return the query
	 */
	public static DeliveryQuery pending() {
		return new DeliveryQuery(Delivery.Status.PENDING, null, null, null, null, DEFAULT_LIMIT);
	}

	/**
	 * Deliveries of any status.
	 * @return the query
	 */
	public static DeliveryQuery all() {
		return new DeliveryQuery(null, null, null, null, null, DEFAULT_LIMIT);
	}

	public DeliveryQuery subscriber(String subscriber) {
		return new DeliveryQuery(this.status, subscriber, this.eventName, this.since, this.until, this.limit);
	}

	public DeliveryQuery eventName(String eventName) {
		return new DeliveryQuery(this.status, this.subscriber, eventName, this.since, this.until, this.limit);
	}

	public DeliveryQuery since(Instant since) {
		return new DeliveryQuery(this.status, this.subscriber, this.eventName, since, this.until, this.limit);
	}

	public DeliveryQuery until(Instant until) {
		return new DeliveryQuery(this.status, this.subscriber, this.eventName, this.since, until, this.limit);
	}

	public DeliveryQuery limit(int limit) {
		return new DeliveryQuery(this.status, this.subscriber, this.eventName, this.since, this.until, limit);
	}

}
