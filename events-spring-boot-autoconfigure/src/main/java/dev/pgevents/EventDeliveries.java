package dev.pgevents;

import java.util.List;

/**
 * The delivery ledger: deliveries that are waiting for a retry, were dead-lettered, or
 * were handed to other instances; and their replay. A replayed delivery goes through the
 * normal path (the relay, the {@link EventHandler}, retries) and its count of replays is
 * kept.
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
	 */
	boolean replay(String eventId, String subscriber);

	/**
	 * Replay every delivery that matches {@code query} (its limit is ignored) and is not
	 * already pending.
	 * @param query which deliveries
	 * @return how many were replayed
	 */
	int replayAll(DeliveryQuery query);

}
