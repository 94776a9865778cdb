package dev.pgevents.test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import dev.pgevents.Event;
import dev.pgevents.kit.EventLog;

import org.springframework.test.context.transaction.TestTransaction;

/**
 * How the kit's failure messages show events and outstanding work: one line each, at most
 * {@value #MAX_LINES} lines.
 */
final class EventDescriptions {

	private static final int MAX_LINES = 20;

	private static final int MAX_DATA = 200;

	private EventDescriptions() {
	}

	/**
	 * One event on one line.
	 * @param event the event
	 * @return for example {@code member.created #42 (target 7) {id=7, name=Ada}}
	 */
	static String event(Event event) {
		String data = String.valueOf(event.target().data());
		if (data.length() > MAX_DATA) {
			data = data.substring(0, MAX_DATA) + "...}";
		}
		return event.eventName() + " #" + event.id() + " (target " + event.target().id() + ") " + data;
	}

	/**
	 * Events, one per line, indented.
	 * @param events the events
	 * @return the lines, or {@code (none)}
	 */
	static String events(List<Event> events) {
		if (events.isEmpty()) {
			return "  (none)";
		}
		StringBuilder lines = new StringBuilder();
		for (int i = 0; i < events.size(); i++) {
			if (i == MAX_LINES) {
				lines.append("\n  ... and ").append(events.size() - MAX_LINES).append(" more");
				break;
			}
			lines.append((i > 0) ? "\n" : "").append("  - ").append(event(events.get(i)));
		}
		return lines.toString();
	}

	/**
	 * What {@link RecordedEvents#awaitQuiet} says on timeout.
	 * @param timeout how long it waited
	 * @param outstanding the work still waiting
	 * @param subscribers the application's subscribers and their events
	 * @return the message
	 */
	static String notQuiet(Duration timeout, List<EventLog.Outstanding> outstanding,
			Map<String, List<String>> subscribers) {
		StringBuilder message = new StringBuilder("Events were still being delivered after ").append(timeout)
			.append(":");
		for (EventLog.Outstanding work : outstanding) {
			message.append("\n  - ").append(outstanding(work));
		}
		if (outstanding.stream().anyMatch(EventLog.Outstanding::undispatched)) {
			message.append("\nChanges not dispatched yet wait for the after-commit dispatch or, when written "
					+ "outside the application's transactions, for the relay (events.relay.enabled)");
		}
		message.append("\nThe application's subscribers: ").append(subscribers.isEmpty() ? "none" : subscribers);
		return message.toString();
	}

	/**
	 * One piece of outstanding work on one line.
	 * @param work the work
	 * @return for example
	 * {@code event #42 (member.created) to 'welcome': 3 attempts, next at ..., last error: ...}
	 */
	static String outstanding(EventLog.Outstanding work) {
		String event = "event #" + work.eventId() + " (" + work.eventName() + ")";
		if (work.undispatched()) {
			return event + ": not dispatched yet; " + (work.subscribers().isEmpty()
					? "no subscriber of the application takes it" : "subscribers " + work.subscribers());
		}
		return event + " to '" + String.join("', '", work.subscribers()) + "': " + work.attempts()
				+ ((work.attempts() == 1) ? " attempt" : " attempts") + " failed, next at " + work.nextAttemptAt()
				+ ", last error: " + work.lastError();
	}

	/**
	 * The reason a test may see no events although its code wrote: its own transaction.
	 * @return a sentence starting on a new line, or an empty string when the test runs in
	 * no test-managed transaction
	 */
	static String transactionHint() {
		if (!TestTransaction.isActive()) {
			return "";
		}
		return "\nNote: the test method runs in a test-managed transaction (@Transactional), which Spring rolls "
				+ "back at its end: its writes have not committed, so they are no events yet. Commit them with "
				+ "recordedEvents.commitTestTransaction().";
	}

}
