package dev.pgevents;

import java.time.Instant;

import org.jspecify.annotations.Nullable;

import dev.pgevents.internal.dispatch.EventPattern;

/**
 * Which deliveries {@link EventDeliveries} finds or replays; every criterion left
 * {@code null} matches all. Start from {@link #dead()} or {@link #pending()} and narrow
 * it: {@code DeliveryQuery.dead().subscriber("verifyEmail").since(yesterday)}. Page
 * through many with {@link #after(Delivery)}.
 *
 * @param status the status
 * @param subscriber the subscriber name
 * @param eventName the event name, or a pattern as in {@link EventSubscriber#value()}
 * ({@code member.*}, {@code *.deleted})
 * @param since entered the ledger at or after this instant
 * @param until entered the ledger before this instant
 * @param limit at most this many (newest first), for {@code find}: 1 to
 * {@value #MAX_LIMIT}
 * @param after only the deliveries that {@code find} lists after this position: the next
 * page
 */
public record DeliveryQuery(Delivery.@Nullable Status status, @Nullable String subscriber, @Nullable String eventName,
		@Nullable Instant since, @Nullable Instant until, int limit, @Nullable Position after) {

	/** The default limit. */
	public static final int DEFAULT_LIMIT = 100;

	/**
	 * The largest limit: a page of deliveries is held in memory, so a query cannot ask
	 * for a million at once; page with {@link #after(Delivery)} instead.
	 */
	public static final int MAX_LIMIT = 1000;

	/**
	 * Validate the query.
	 * @throws IllegalArgumentException when the limit is out of range or the event name
	 * is neither a name nor a pattern
	 */
	public DeliveryQuery {
		if (limit < 1 || limit > MAX_LIMIT) {
			throw new IllegalArgumentException(
					"limit is " + limit + ": use 1 to " + MAX_LIMIT + ", and page with after(the last delivery)");
		}
		if (eventName != null) {
			EventPattern.parse(eventName);
		}
	}

	/**
	 * Dead-lettered deliveries.
	 * @return the query
	 */
	public static DeliveryQuery dead() {
		return new DeliveryQuery(Delivery.Status.DEAD, null, null, null, null, DEFAULT_LIMIT, null);
	}

	/**
	 * Deliveries waiting for an attempt.
	 * @return the query
	 */
	public static DeliveryQuery pending() {
		return new DeliveryQuery(Delivery.Status.PENDING, null, null, null, null, DEFAULT_LIMIT, null);
	}

	/**
	 * Deliveries of any status.
	 * @return the query
	 */
	public static DeliveryQuery all() {
		return new DeliveryQuery(null, null, null, null, null, DEFAULT_LIMIT, null);
	}

	public DeliveryQuery subscriber(String subscriber) {
		return new DeliveryQuery(this.status, subscriber, this.eventName, this.since, this.until, this.limit,
				this.after);
	}

	public DeliveryQuery eventName(String eventName) {
		return new DeliveryQuery(this.status, this.subscriber, eventName, this.since, this.until, this.limit,
				this.after);
	}

	public DeliveryQuery since(Instant since) {
		return new DeliveryQuery(this.status, this.subscriber, this.eventName, since, this.until, this.limit,
				this.after);
	}

	public DeliveryQuery until(Instant until) {
		return new DeliveryQuery(this.status, this.subscriber, this.eventName, this.since, until, this.limit,
				this.after);
	}

	public DeliveryQuery limit(int limit) {
		return new DeliveryQuery(this.status, this.subscriber, this.eventName, this.since, this.until, limit,
				this.after);
	}

	/**
	 * The next page: the deliveries that {@code find} lists after this one.
	 * @param last the last delivery of the previous page
	 * @return the query
	 */
	public DeliveryQuery after(Delivery last) {
		return after(Position.of(last));
	}

	/**
	 * The next page: the deliveries that {@code find} lists after this position.
	 * @param position where the previous page ended
	 * @return the query
	 */
	public DeliveryQuery after(Position position) {
		return new DeliveryQuery(this.status, this.subscriber, this.eventName, this.since, this.until, this.limit,
				position);
	}

	/**
	 * A place in {@code find}'s order (newest entry first, then by event and subscriber,
	 * both descending), that a page of deliveries ends at.
	 *
	 * @param createdAt when the delivery entered the ledger
	 * @param eventId the event
	 * @param subscriber the subscriber
	 */
	public record Position(Instant createdAt, String eventId, String subscriber) {

		/**
		 * The position of a delivery.
		 * @param delivery the delivery
		 * @return its position
		 */
		public static Position of(Delivery delivery) {
			return new Position(delivery.createdAt(), delivery.eventId(), delivery.subscriber());
		}

	}

}
