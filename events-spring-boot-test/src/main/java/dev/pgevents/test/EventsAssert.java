package dev.pgevents.test;

import java.util.List;
import java.util.function.Predicate;

import org.assertj.core.api.AbstractAssert;

import dev.pgevents.Event;

/**
 * AssertJ assertions on the recorded events of one name, from
 * {@link RecordedEventsAssert#contains(String)}; {@code matching} narrows them.
 */
public final class EventsAssert extends AbstractAssert<EventsAssert, List<Event>> {

	private final String description;

	EventsAssert(String description, List<Event> events) {
		super(events, EventsAssert.class);
		this.description = description;
	}

	/**
	 * Keep the events a predicate accepts, and verify there is at least one.
	 * @param predicate the condition
	 * @return assertions on the matching events
	 */
	public EventsAssert matching(Predicate<? super Event> predicate) {
		return narrow(predicate, "matching the predicate");
	}

	/**
	 * Keep the events whose {@code data} has a field of a value, and verify there is at
	 * least one. Values compare as {@link EventAssert#hasData} does.
	 * @param field a key of {@code target().data()}, in lowerCamelCase
	 * @param value the expected value
	 * @return assertions on the matching events
	 */
	public EventsAssert matching(String field, Object value) {
		return narrow(
				(event) -> event.target().data().containsKey(field)
						&& EventAssert.sameValue(event.target().data().get(field), value),
				"with " + field + " = " + value);
	}

	/**
	 * Verify how many events there are.
	 * @param expected the number
	 * @return this
	 */
	public EventsAssert hasSize(int expected) {
		if (this.actual.size() != expected) {
			failWithMessage("%s", "Expected " + expected + " events " + this.description + ", but there were "
					+ this.actual.size() + ":\n" + EventDescriptions.events(this.actual));
		}
		return this;
	}

	/**
	 * Verify that there is exactly one event.
	 * @return assertions on it
	 */
	public EventAssert singleElement() {
		hasSize(1);
		return new EventAssert(this.actual.get(0));
	}

	/**
	 * The first event, in the order they were written.
	 * @return assertions on it
	 */
	public EventAssert first() {
		return new EventAssert(this.actual.get(0));
	}

	/**
	 * The last event, in the order they were written.
	 * @return assertions on it
	 */
	public EventAssert last() {
		return new EventAssert(this.actual.get(this.actual.size() - 1));
	}

	private EventsAssert narrow(Predicate<? super Event> predicate, String condition) {
		List<Event> matching = this.actual.stream().filter(predicate).toList();
		if (matching.isEmpty()) {
			failWithMessage("%s", "Expected an event " + this.description + " " + condition + ", but none of these "
					+ this.actual.size() + " matched:\n" + EventDescriptions.events(this.actual));
		}
		return new EventsAssert(this.description + " " + condition, matching);
	}

}
