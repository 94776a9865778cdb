package dev.pgevents.test;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Predicate;

import org.jspecify.annotations.Nullable;

import dev.pgevents.Delivery;
import dev.pgevents.Event;
import dev.pgevents.kit.EventLog;

/**
 * A stimulus, then a wait for what it causes: an event to commit, or a subscriber to take
 * one, whichever path the delivery takes (after commit, the dispatch executor in async
 * mode, the relay for outside writes, a retry). Only what commits after the stimulus
 * starts counts, and, for a subscriber's delivery, earlier changes delivered to it again
 * (a replay or a rewind that the stimulus made). <pre class="code">
 * scenario.stimulate(() -&gt; members.register("ada@example.com"))
 *     .andWaitForDelivery("verifyEmail")
 *     .matching((event) -&gt; event.target().data().get("email").equals("ada@example.com"))
 *     .toArriveAndVerify((event) -&gt; assertThat(mails.sent()).contains("ada@example.com"));
 * </pre> A scenario waits {@value #DEFAULT_TIMEOUT_SECONDS} seconds at most unless told
 * otherwise ({@link #waitAtMost}); on timeout it throws an {@link AssertionError} that
 * shows what did commit and what is still waiting.
 */
public final class EventScenario {

	static final int DEFAULT_TIMEOUT_SECONDS = 10;

	private final EventLog log;

	private final Duration timeout;

	EventScenario(EventLog log, Duration timeout) {
		this.log = log;
		this.timeout = timeout;
	}

	/**
	 * A scenario that waits at most a given time.
	 * @param timeout how long to wait
	 * @return the scenario
	 */
	public EventScenario waitAtMost(Duration timeout) {
		return new EventScenario(this.log, timeout);
	}

	/**
	 * Run the stimulus: a service call, an HTTP request, a write by another process.
	 * @param stimulus what causes the events
	 * @return what to wait for
	 */
	public Stimulated stimulate(Stimulus stimulus) {
		EventLog.Position start = this.log.position();
		try {
			stimulus.run();
		}
		catch (RuntimeException | Error ex) {
			throw ex;
		}
		catch (Exception ex) {
			throw new IllegalStateException("The stimulus failed: " + ex, ex);
		}
		return new Stimulated(start);
	}

	/**
	 * What causes the events.
	 */
	@FunctionalInterface
	public interface Stimulus {

		/**
		 * Run it.
		 * @throws Exception what it throws (the scenario then fails)
		 */
		void run() throws Exception;

	}

	/**
	 * A stimulus that ran: what to wait for.
	 */
	public final class Stimulated {

		private final EventLog.Position start;

		Stimulated(EventLog.Position start) {
			this.start = start;
		}

		/**
		 * Wait for an event of a name to commit.
		 * @param eventName the name, for example {@code member.created}, or a pattern
		 * ({@code member.*}, {@code *.deleted}: see {@link Event#matches})
		 * @return the expectation
		 */
		public Expectation andWaitForEvent(String eventName) {
			return new Expectation(this.start, eventName, null, (event) -> true, "'" + eventName + "'");
		}

		/**
		 * Wait for a subscriber of the application to take an event: the call succeeded
		 * (at its first attempt or a retry). A dead-lettered delivery of a matching event
		 * fails the wait at once.
		 * @param subscriber the subscriber's name
		 * @return the expectation
		 * @throws IllegalArgumentException when the application has no such subscriber
		 */
		public Expectation andWaitForDelivery(String subscriber) {
			if (!EventScenario.this.log.subscribers().containsKey(subscriber)) {
				throw new IllegalArgumentException("The application has no subscriber '" + subscriber
						+ "'; its subscribers: " + EventScenario.this.log.subscribers().keySet());
			}
			return new Expectation(this.start, null, subscriber, (event) -> true, "");
		}

	}

	/**
	 * What the scenario waits for; {@code named} and {@code matching} narrow it.
	 */
	public final class Expectation {

		private final EventLog.Position start;

		private final @Nullable String eventName;

		private final @Nullable String subscriber;

		private final Predicate<? super Event> condition;

		private final String description;

		Expectation(EventLog.Position start, @Nullable String eventName, @Nullable String subscriber,
				Predicate<? super Event> condition, String description) {
			this.start = start;
			this.eventName = eventName;
			this.subscriber = subscriber;
			this.condition = condition;
			this.description = description;
		}

		/**
		 * Only events of a name.
		 * @param eventName the name, or a pattern (see {@link Event#matches})
		 * @return the narrowed expectation
		 */
		public Expectation named(String eventName) {
			return new Expectation(this.start, eventName, this.subscriber, this.condition,
					this.description + "'" + eventName + "'");
		}

		/**
		 * Only events a predicate accepts.
		 * @param predicate the condition
		 * @return the narrowed expectation
		 */
		public Expectation matching(Predicate<? super Event> predicate) {
			Predicate<? super Event> before = this.condition;
			return new Expectation(this.start, this.eventName, this.subscriber,
					(event) -> before.test(event) && predicate.test(event),
					this.description + (this.description.isEmpty() ? "" : " ") + "matching the expectation");
		}

		/**
		 * Wait for the event.
		 * @return the first event that meets the expectation
		 * @throws AssertionError on timeout, or when the subscriber's delivery of a
		 * matching event was dead-lettered
		 */
		public Event toArrive() {
			return Waiting.until(EventScenario.this.timeout, this::probe, Optional::isPresent, (none) -> timedOut())
				.orElseThrow();
		}

		/**
		 * Wait for the event, then verify it.
		 * @param verification assertions on the event, or on what its delivery did
		 */
		public void toArriveAndVerify(Consumer<? super Event> verification) {
			verification.accept(toArrive());
		}

		private boolean expected(Event event) {
			return (this.eventName == null || event.matches(this.eventName)) && this.condition.test(event);
		}

		private Optional<Event> probe() {
			if (this.subscriber == null) {
				return EventScenario.this.log.events(this.start.end()).stream().filter(this::expected).findFirst();
			}
			Optional<Event> taken = EventScenario.this.log.takenBy(this.start, this.subscriber)
				.stream()
				.filter(this::expected)
				.findFirst();
			if (taken.isEmpty()) {
				failOnDeadLetter(this.subscriber);
			}
			return taken;
		}

		private void failOnDeadLetter(String subscriber) {
			List<Delivery> dead = EventScenario.this.log.deliveries(this.start.end())
				.stream()
				.filter((delivery) -> delivery.subscriber().equals(subscriber)
						&& delivery.status() == Delivery.Status.DEAD)
				.toList();
			if (dead.isEmpty()) {
				return;
			}
			for (Event event : EventScenario.this.log.events(this.start.end())) {
				for (Delivery delivery : dead) {
					if (delivery.eventId().equals(event.id()) && expected(event)) {
						throw new AssertionError("Subscriber '" + subscriber + "' did not take "
								+ EventDescriptions.event(event) + ": dead-lettered after " + delivery.attempts()
								+ ((delivery.attempts() == 1) ? " attempt" : " attempts") + ", last error: "
								+ delivery.lastError());
					}
				}
			}
		}

		private String timedOut() {
			List<Event> committed = EventScenario.this.log.events(this.start.end());
			String what = (this.subscriber != null)
					? "Subscriber '" + this.subscriber + "' took no event"
							+ (this.description.isEmpty() ? "" : " " + this.description)
					: "No event " + this.description + " committed";
			StringBuilder message = new StringBuilder(what).append(" within ")
				.append(EventScenario.this.timeout)
				.append(". Events committed since the stimulus:\n")
				.append(EventDescriptions.events(committed));
			if (this.subscriber != null) {
				List<EventLog.Outstanding> waiting = EventScenario.this.log.outstanding(this.start, 20)
					.stream()
					.filter((work) -> work.subscribers().contains(this.subscriber))
					.toList();
				if (!waiting.isEmpty()) {
					message.append("\nStill waiting:");
					waiting.forEach((work) -> message.append("\n  - ").append(EventDescriptions.outstanding(work)));
				}
			}
			return message.append(EventDescriptions.transactionHint()).toString();
		}

	}

}
