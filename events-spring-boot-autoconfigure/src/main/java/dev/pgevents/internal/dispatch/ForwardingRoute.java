package dev.pgevents.internal.dispatch;

import java.util.concurrent.CompletableFuture;

import org.jspecify.annotations.Nullable;

import dev.pgevents.Event;
import dev.pgevents.internal.support.StartupFailure;

/**
 * A forwarding route as a subscriber's recipient: its events go to a broker, in order per
 * row, and only from the relay, never from a committing thread.
 */
final class ForwardingRoute implements Recipient, Forwarder {

	private final Route route;

	private volatile @Nullable Forwarder forwarder;

	ForwardingRoute(Route route) {
		this.route = route;
	}

	/**
	 * Make the forwarder, once the broker client's beans exist.
	 * @return the forwarder
	 * @throws StartupFailure when the route cannot send (no template, say)
	 */
	Forwarder resolve() {
		Forwarder forwarder = this.forwarder;
		if (forwarder == null) {
			forwarder = this.route.forwarder().get();
			this.forwarder = forwarder;
		}
		return forwarder;
	}

	@Override
	public CompletableFuture<?> send(Event event, String traceparent) {
		return resolve().send(event, traceparent);
	}

	@Override
	public void flush() {
		resolve().flush();
	}

	@Override
	public void discard() {
		resolve().discard();
	}

	@Override
	public void close() {
		Forwarder forwarder = this.forwarder;
		if (forwarder != null) {
			forwarder.close();
		}
	}

	@Override
	public String describe() {
		return this.route.property() + " (" + this.route.destination() + ")";
	}

	@Override
	public StartupFailure invalid(String problem) {
		return new StartupFailure("Forwarding route " + describe() + ": " + problem,
				"Fix " + this.route.property() + " in the application's configuration: see docs/delivery.md, "
						+ "\"Forwarding to Kafka and RabbitMQ\"");
	}

}
