package dev.pgevents.internal.dispatch;

import java.util.List;
import java.util.function.Supplier;

/**
 * A forwarding route as configured: a subscriber of its own that sends its events to a
 * broker.
 *
 * @param name the subscriber name, {@code kafka:<topic>} or {@code rabbit:<exchange>}
 * @param property the property that declares it, for messages
 * ({@code events.forward.kafka.routes[0]})
 * @param destination what it sends to, for messages ({@code topic 'members'})
 * @param events the event names and patterns it takes, as {@code @EventSubscriber} takes
 * them
 * @param forwarder makes its forwarder on first use, once the broker client's beans exist
 */
public record Route(String name, String property, String destination, List<String> events,
		Supplier<Forwarder> forwarder) {
}
