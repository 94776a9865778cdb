package dev.pgevents;

import java.time.Instant;
import java.util.List;

/**
 * The delivery ledger: deliveries that are waiting for a retry, were dead-lettered, or
 * were handed to other instances; and their replay. A replayed delivery goes through the
 * normal path (the relay, the {@link EventHandler}, retries) and its count of replays is
 * kept.
 * <p>
 * Each call runs in a transaction of its own on a connection of its own, committed when
 * it returns: called inside an application transaction, it neither joins nor ends it.
 */
public interface EventDeliveries {

	/**
	 * Find deliveries, newest first.
	 * @param query which deliveries
	 * @return at most {@code query.limit()} deliveries
	 */
	List<Delivery> find(DeliveryQuery query);

	/**
	 * Deliver one event to one subscriber again, with a fresh set of attempts.
	 * @param eventId the event
	 * @param subscriber the subscriber
	 * @return whether there was such a delivery that is not already pending
	 * @throws IllegalArgumentException when {@code eventId} is not an event's id
	 */
	boolean replay(String eventId, String subscriber);

	/**
	 * Replay every delivery that matches {@code query} (its limit is ignored) and is not
	 * already pending.
	 * @param query which deliveries
	 * @return how many were replayed
	 */
	int replayAll(DeliveryQuery query);

	/**
	 * Skip a dead letter: it is never delivered, and, for an ordered subscriber, its
	 * row's later events are released, in order. It stays in the ledger as
	 * {@link Delivery.Status#SKIPPED}.
	 * @param eventId the event
	 * @param subscriber the subscriber
	 * @return whether there was such a dead letter
	 * @throws IllegalArgumentException when {@code eventId} is not an event's id
	 */
	boolean skip(String eventId, String subscriber);

	/**
	 * Send one subscriber a {@code
	 *
	<table>
	 * .snapshot} event of every row the table has now (its data the row, its previous
	 * data null), so that a projection added to a running system starts complete. No
	 * other subscriber gets them. The rows are read in batches of
	 * {@code events.relay.batch-size} by primary key, each batch in a short transaction
	 * of its own (for an ordered subscriber under a share lock, so that each row's
	 * snapshot takes its place in the row's order); they are delivered through the relay
	 * like retries (order, backoff, dead letters, metrics). Calling it again sends the
	 * rows again.
	 * @param subscriber the subscriber, which must take {@code <table>.snapshot} (or
	 * {@code *.snapshot}; {@code <table>.*} does not include it)
	 * @param table the table, as events name it
	 * @return the rows queued, once every row is queued
	 * @throws IllegalArgumentException when the application has no such subscriber, does
	 * not audit the table, or the subscriber does not take its snapshot event
	 */
	long backfill(String subscriber, String table);

	/**
	 * Deliver again to one subscriber every event it takes (its names, patterns and
	 * filters) that occurred at or after an instant and is still in the audit table
	 * ({@code events.retention}), in the original order per row: to rebuild a projection
	 * after a bug. No other subscriber is called again. When the instant lies before what
	 * retention kept, what is kept is delivered, and a warning says from when.
	 * @param subscriber the subscriber
	 * @param since the instant
	 * @return the events queued
	 * @throws IllegalArgumentException when the application has no such subscriber
	 */
	long rewind(String subscriber, Instant since);

	/**
	 * Retire a subscriber that no running instance has any more (renamed, removed, or
	 * registered by a test run against a shared database): instances stop handing it
	 * events at once, instead of for {@code events.relay.subscriber-expiry}, and its
	 * pending deliveries, which no instance would make, are dropped. Its dead letters are
	 * kept. An instance that still has the subscriber registers it again within a minute.
	 * @param subscriber the subscriber name
	 * @return how many pending deliveries were dropped
	 * @throws IllegalArgumentException when this instance has the subscriber
	 */
	int retire(String subscriber);

}
