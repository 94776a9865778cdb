package dev.pgevents.internal.dispatch;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import dev.pgevents.Event;
import dev.pgevents.internal.support.ThrottledLog;

/**
 * Sends events to the brokers of forwarding routes without waiting for each: the answers
 * come back as futures, which a batch collects and waits for at its end, and each turns
 * into the route's outcome for the {@link DeliveryLedger}.
 */
final class BrokerSends {

	private static final Log logger = LogFactory.getLog(BrokerSends.class);

	/** A broker that is down refuses every event of a batch: one line, not hundreds. */
	private final ThrottledLog refused = new ThrottledLog(logger, Duration.ofSeconds(10));

	private final DeliveryObserver observer;

	private final Backoff backoff;

	BrokerSends(DeliveryObserver observer, Backoff backoff) {
		this.observer = observer;
		this.backoff = backoff;
	}

	/**
	 * Send an event to a route's broker without waiting, unless the broker could not be
	 * reached earlier in the batch.
	 * @param forwarder the route's forwarder
	 * @param subscriber the route's name
	 * @param event the event
	 * @param traceparent the trace it continues
	 * @param attempt which attempt this is
	 * @param path the path it takes
	 * @param batch the batch's sends
	 * @return the failure, or {@code null} once the broker acknowledged the event
	 */
	CompletableFuture<@Nullable DeliveryFailure> send(Forwarder forwarder, String subscriber, Event event,
			String traceparent, int attempt, DeliveryObserver.Path path, Forwarding batch) {
		Duration latency = Duration.between(event.occurredAt(), Instant.now());
		CompletableFuture<?> sent;
		UnreachableBrokerException earlier = batch.unreachable.get(subscriber);
		if (earlier != null) {
			sent = CompletableFuture.failedFuture(earlier);
		}
		else {
			try {
				batch.used.add(forwarder);
				sent = forwarder.send(event, traceparent);
			}
			catch (UnreachableBrokerException ex) {
				batch.unreachable.put(subscriber, ex);
				sent = CompletableFuture.failedFuture(ex);
			}
			catch (RuntimeException ex) {
				sent = CompletableFuture.failedFuture(ex);
			}
		}
		return sent.handle((acknowledged, ex) -> {
			if (ex == null) {
				this.observer.called(subscriber, event.eventName(), path, latency, DeliveryObserver.Outcome.DELIVERED);
				return null;
			}
			Throwable cause = (ex instanceof CompletionException && ex.getCause() != null) ? ex.getCause() : ex;
			DeliveryFailure failure = DeliveryFailure.of(subscriber, cause, attempt, this.backoff);
			this.observer.called(subscriber, event.eventName(), path, latency,
					failure.dead() ? DeliveryObserver.Outcome.DEAD : DeliveryObserver.Outcome.FAILED);
			this.refused.warn(
					"Route '" + subscriber + "' could not send event " + event.id() + " (" + event.eventName()
							+ "), attempt " + attempt + "; "
							+ (failure.dead() ? "dead-lettered" : "retrying in " + failure.delay().toMillis() + " ms"),
					cause);
			return failure;
		});
	}

	/**
	 * A batch's sends to forwarding routes: the forwarders used, flushed once the batch
	 * is sent, and the routes whose broker could not be reached. The client may have
	 * waited for such a broker (Kafka's {@code max.block.ms}), so the route's other
	 * events of the batch fail at once with the same cause and wait for their retries.
	 */
	static final class Forwarding {

		private final Map<String, UnreachableBrokerException> unreachable = new HashMap<>();

		private final Set<Forwarder> used = new HashSet<>();

		/** Have the forwarders send what their clients hold back, and wait for it. */
		void flush() {
			this.used.forEach(Forwarder::flush);
		}

		/** Drop what the forwarders hold back: the batch failed before it was flushed. */
		void discard() {
			this.used.forEach(Forwarder::discard);
		}

	}

	/**
	 * A relay batch's events sent to forwarding routes, at most one per row and route,
	 * whose outcomes join their rows' once the brokers answered.
	 */
	static final class Sends {

		private final Forwarding forwarding = new Forwarding();

		private final Set<String> rows = new HashSet<>();

		private final List<Long> auditIds = new ArrayList<>();

		private final List<CompletableFuture<@Nullable DeliveryFailure>> sent = new ArrayList<>();

		Forwarding forwarding() {
			return this.forwarding;
		}

		/** Drop what the forwarders hold back: the batch failed before it was flushed. */
		void discard() {
			this.forwarding.discard();
		}

		/** Whether this is the batch's first event of the row for the route. */
		boolean first(String subscriber, String key) {
			return this.rows.add(subscriber + "\u0000" + key);
		}

		void add(long auditId, CompletableFuture<@Nullable DeliveryFailure> send) {
			this.auditIds.add(auditId);
			this.sent.add(send);
		}

		boolean isEmpty() {
			return this.sent.isEmpty();
		}

		int size() {
			return this.sent.size();
		}

		/** Wait for every answer: the failures, by row. */
		List<DeliveryLedger.Outcome> awaitAll() {
			this.forwarding.flush();
			List<DeliveryLedger.Outcome> refused = new ArrayList<>();
			for (int i = 0; i < this.sent.size(); i++) {
				DeliveryFailure failure = this.sent.get(i).join();
				if (failure != null) {
					refused.add(new DeliveryLedger.Outcome(this.auditIds.get(i), List.of(failure)));
				}
			}
			return refused;
		}

	}

}
