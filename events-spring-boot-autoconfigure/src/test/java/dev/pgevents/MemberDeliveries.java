package dev.pgevents;

import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts the deliveries of {@code member.created}, by member id.
 */
class MemberDeliveries {

	final Map<UUID, AtomicInteger> deliveries = new ConcurrentHashMap<>();

	@EventSubscriber("member.created")
	void delivered(Event event) {
		this.deliveries.computeIfAbsent(UUID.fromString(event.target().id()), (id) -> new AtomicInteger())
			.incrementAndGet();
	}

}
