package dev.pgevents.internal.dispatch;

import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import dev.pgevents.Event;
import dev.pgevents.EventHandler;
import dev.pgevents.internal.capture.Causation;

/**
 * Hands an audit row's event to the {@link EventHandler} once per local subscriber of it,
 * and turns what each call did into an outcome for the {@link DeliveryLedger}: every path
 * delivers through here (after commit, hand-over, relay, retries and replays). A
 * subscriber that throws is recorded for that subscriber alone, and never disturbs the
 * caller or the other subscribers. A row that cannot be turned into an event (a value the
 * JSON reader refuses) is dead-lettered for each of its subscribers with the reason, so
 * that it never stops the rows after it.
 */
final class FanOut {

	private static final Log logger = LogFactory.getLog(FanOut.class);

	private final Subscriptions subscribers;

	private final EventHandler handler;

	private final EventFactory events;

	private final Backoff backoff;

	private final DeliveryLedger ledger;

	private final DeliveryObserver observer;

	private final RowOrder order;

	private final ChainLimit chains;

	private final BrokerSends brokers;

	FanOut(Subscriptions subscribers, EventHandler handler, EventFactory events, Backoff backoff, DeliveryLedger ledger,
			DeliveryObserver observer, RowOrder order, ChainLimit chains) {
		this.chains = chains;
		this.observer = observer;
		this.order = order;
		this.subscribers = subscribers;
		this.handler = handler;
		this.events = events;
		this.backoff = backoff;
		this.ledger = ledger;
		this.brokers = new BrokerSends(observer, backoff);
	}

	/**
	 * Deliver claimed rows in order, and record their outcomes in the claim's
	 * transaction, which then commits. Once {@code running} turns false no further row is
	 * begun: the rows not delivered are released with the claim, to whoever claims them
	 * next.
	 * @param claim the claimed rows
	 * @param running whether this instance still takes work
	 * @return how many rows were delivered
	 * @throws SQLException when the outcomes cannot be recorded (the claim is then rolled
	 * back when closed, and its rows are delivered again)
	 */
	int deliver(Claim claim, BooleanSupplier running) throws SQLException {
		List<DeliveryLedger.Outcome> outcomes = new ArrayList<>(claim.rows().size());
		OrderBatch order = claim.query((connection) -> this.order.applies()
				? this.order.check(connection, claim.rows(), claim.rows().stream().map(AuditRow::id).toList())
				: new OrderBatch());
		BrokerSends.Sends sends = new BrokerSends.Sends();
		try {
			for (AuditRow row : claim.rows()) {
				if (!running.getAsBoolean()) {
					break;
				}
				outcomes.add(claim.calling("The delivery of audit row " + row.id() + " (" + row.eventName() + ")",
						() -> deliver(row, DeliveryObserver.Path.RELAY, order, sends)));
			}
			// the rows are marked while the brokers take the events sent; the routes'
			// failures follow in the same transaction
			claim.run((connection) -> this.ledger.record(connection, outcomes));
			if (!sends.isEmpty()) {
				List<DeliveryLedger.Outcome> refused = claim.calling(
						"Waiting for the brokers to acknowledge " + sends.size() + " forwarded events",
						sends::awaitAll);
				claim.run((connection) -> this.ledger.recordFailures(connection, refused));
			}
		}
		finally {
			sends.discard();
		}
		claim.commit();
		return outcomes.size();
	}

	/**
	 * Deliver a row's event to each of its local subscribers; an ordered subscriber's
	 * waits in the ledger instead while an earlier event of its row is not taken yet.
	 * @param row the row
	 * @param path the path it takes
	 * @param order what holds back ordered deliveries in the row's batch, which learns of
	 * the row's failures and waits
	 * @return what each call did
	 */
	DeliveryLedger.Outcome deliver(AuditRow row, DeliveryObserver.Path path, OrderBatch order) {
		return deliver(row, path, order, null);
	}

	/**
	 * Deliver a row's event, in a relay batch whose events to forwarding routes are sent
	 * from here.
	 * @param sends the batch's sends, to which a route's event is added when it is the
	 * first of its row in the batch and nothing holds it back (its outcome joins the
	 * row's once the broker answered); {@code null} off the relay, where a route's events
	 * wait in the ledger for the relay
	 */
	private DeliveryLedger.Outcome deliver(AuditRow row, DeliveryObserver.Path path, OrderBatch order,
			BrokerSends.@Nullable Sends sends) {
		List<Subscriber> targets = this.subscribers.subscribersOf(row.eventName());
		if (targets.isEmpty()) {
			return new DeliveryLedger.Outcome(row.id(), List.of());
		}
		Event event;
		try {
			event = this.events.toEvent(row);
		}
		catch (RuntimeException | StackOverflowError ex) {
			targets.stream()
				.filter(Subscriber::ordered)
				.forEach((subscriber) -> order.holdTable(subscriber.name(), row.tableName()));
			return new DeliveryLedger.Outcome(row.id(),
					targets.stream().map((subscriber) -> unreadable(subscriber.name(), row, ex, path)).toList());
		}
		List<DeliveryFailure> failures = new ArrayList<>(0);
		String traceparent = row.traceparent();
		String key = OrderBatch.key(row, event);
		for (Subscriber subscriber : targets) {
			Forwarder forwarder = subscriber.forwarder();
			if (forwarder != null) {
				// a route sends from the relay alone, off the committing threads, and one
				// event of a row at a time: the next waits until the broker took this one
				if (sends == null || order.mustWait(subscriber.name(), row, key)
						|| !sends.first(subscriber.name(), key)) {
					failures.add(DeliveryFailure.waiting(subscriber.name()));
				}
				else {
					sends.add(row.id(), this.brokers.send(forwarder, subscriber.name(), event, traceparent, 1, path,
							sends.forwarding()));
				}
				continue;
			}
			if (subscriber.ordered() && order.mustWait(subscriber.name(), row, key)) {
				failures.add(DeliveryFailure.waiting(subscriber.name()));
				order.hold(subscriber.name(), key);
				continue;
			}
			DeliveryFailure failure = call(subscriber, subscriber.name(), event, row, traceparent, 1, path);
			if (failure != null) {
				failures.add(failure);
				if (subscriber.ordered()) {
					order.hold(subscriber.name(), key);
				}
			}
		}
		return new DeliveryLedger.Outcome(row.id(), failures);
	}

	/**
	 * Deliver a claimed ledger entry; its outcome is the caller's to record.
	 * @param entry the entry
	 * @param row its audit row, or {@code null} when it no longer exists (deleted by
	 * hand: retention keeps the rows of undelivered entries)
	 * @return how it ended
	 */
	DeliveryLedger.Finished deliver(DeliveryLedger.ClaimedDelivery entry, @Nullable AuditRow row) {
		if (row == null) {
			return new DeliveryLedger.Finished(entry, new DeliveryFailure(entry.subscriber(),
					"the audit row " + entry.auditId() + " no longer exists", true, Duration.ZERO));
		}
		Event event;
		try {
			event = this.events.toEvent(row);
		}
		catch (RuntimeException | StackOverflowError ex) {
			return new DeliveryLedger.Finished(entry,
					unreadable(entry.subscriber(), row, ex, DeliveryObserver.Path.RETRY));
		}
		return new DeliveryLedger.Finished(entry, call(this.subscribers.named(entry.subscriber()), entry.subscriber(),
				event, row, row.traceparent(), entry.attempts() + 1, DeliveryObserver.Path.RETRY));
	}

	/**
	 * Send a claimed ledger entry of a forwarding route without waiting for the broker.
	 * @param entry the entry
	 * @param row its audit row, or {@code null} when it no longer exists
	 * @param forwarder the route's forwarder
	 * @param batch the batch's sends
	 * @return how it ended, once the broker acknowledged it or refused it
	 */
	CompletableFuture<DeliveryLedger.Finished> forward(DeliveryLedger.ClaimedDelivery entry, @Nullable AuditRow row,
			Forwarder forwarder, BrokerSends.Forwarding batch) {
		if (row == null) {
			return CompletableFuture.completedFuture(deliver(entry, null));
		}
		Event event;
		try {
			event = this.events.toEvent(row);
		}
		catch (RuntimeException | StackOverflowError ex) {
			return CompletableFuture.completedFuture(new DeliveryLedger.Finished(entry,
					unreadable(entry.subscriber(), row, ex, DeliveryObserver.Path.RETRY)));
		}
		return this.brokers
			.send(forwarder, entry.subscriber(), event, row.traceparent(), entry.attempts() + 1,
					DeliveryObserver.Path.RETRY, batch)
			.thenApply((failure) -> new DeliveryLedger.Finished(entry, failure));
	}

	private DeliveryFailure unreadable(String subscriber, AuditRow row, Throwable ex, DeliveryObserver.Path path) {
		this.observer.called(subscriber, row.eventName(), path, Duration.between(row.createdAt(), Instant.now()),
				DeliveryObserver.Outcome.DEAD);
		logger.error("Audit row " + row.id() + " (" + row.eventName() + ") cannot be turned into an event; "
				+ "dead-lettered for subscriber '" + subscriber + "'", ex);
		return new DeliveryFailure(subscriber,
				DeliveryFailure.describe("The audit row cannot be read as an event: ", ex), true, Duration.ZERO);
	}

	/**
	 * Call a subscriber, unless its filters leave the event out (then it is handled).
	 * @param filter the subscriber's declaration, whose filters apply, or {@code null}
	 * @param subscriber the subscriber name
	 * @return the failure, or {@code null} when the call succeeded or was filtered out
	 */
	private @Nullable DeliveryFailure call(@Nullable Subscriber filter, String subscriber, Event event, AuditRow row,
			String traceparent, int attempt, DeliveryObserver.Path path) {
		Duration latency = Duration.between(event.occurredAt(), Instant.now());
		try {
			if (filter != null && !filter.accepts(event)) {
				return null;
			}
			String tooDeep = this.chains.exceeded(row, subscriber);
			if (tooDeep != null) {
				this.observer.chainStopped(subscriber, event.eventName());
				this.observer.called(subscriber, event.eventName(), path, latency, DeliveryObserver.Outcome.DEAD);
				return new DeliveryFailure(subscriber, tooDeep, true, Duration.ZERO);
			}
			// what the subscriber writes records this event as its cause
			Causation.Cause cause = new Causation.Cause(row.id(), row.chainDepth() + 1);
			SubscriberTransaction transaction = (filter != null) ? filter.transaction() : null;
			if (transaction == null) {
				this.observer.observe(subscriber, event, traceparent, path,
						() -> Causation.during(cause, () -> this.handler.handle(subscriber, event, traceparent)));
			}
			else {
				this.observer.observe(subscriber, event, traceparent, path,
						() -> Causation.during(cause, () -> transaction.deliver(this.ledger, row.id(), subscriber,
								() -> this.handler.handle(subscriber, event, traceparent))));
			}
			this.observer.called(subscriber, event.eventName(), path, latency, DeliveryObserver.Outcome.DELIVERED);
			return null;
		}
		catch (Exception | LinkageError | AssertionError | StackOverflowError | OutOfMemoryError ex) {
			// errors that one call causes and the JVM survives fail the delivery, which
			// is
			// retried, and not the thread
			DeliveryFailure failure = DeliveryFailure.of(subscriber, ex, attempt, this.backoff);
			this.observer.called(subscriber, event.eventName(), path, latency,
					failure.dead() ? DeliveryObserver.Outcome.DEAD : DeliveryObserver.Outcome.FAILED);
			logger.warn(
					"Subscriber '" + subscriber + "' failed on event " + event.id() + " (" + event.eventName()
							+ "), attempt " + attempt + "; "
							+ (failure.dead() ? "dead-lettered" : "retrying in " + failure.delay().toMillis() + " ms"),
					ex);
			return failure;
		}
	}

}
