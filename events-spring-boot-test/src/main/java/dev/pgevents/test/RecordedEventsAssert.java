package dev.pgevents.test;

import java.util.Arrays;
import java.util.List;

import org.assertj.core.api.AbstractAssert;

import dev.pgevents.Event;

/**
 * AssertJ assertions on {@link RecordedEvents}: {@code assertThat(recordedEvents)}.
 * <pre class="code">
 * assertThat(recordedEvents).contains("member.created").matching("email", "ada@example.com");
 * assertThat(recordedEvents).doesNotContain("member.deleted");
 * </pre>
 */
public final class RecordedEventsAssert extends AbstractAssert<RecordedEventsAssert, RecordedEvents> {

	RecordedEventsAssert(RecordedEvents actual) {
		super(actual, RecordedEventsAssert.class);
	}

	/**
	 * Verify that at least one event of a name, or of a pattern, was recorded.
	 * @param eventName the event name, for example {@code member.created}, or a pattern
	 * ({@code member.*}, {@code *.deleted}: see {@link Event#matches})
	 * @return assertions on the recorded events of that name
	 */
	public EventsAssert contains(String eventName) {
		isNotNull();
		List<Event> all = this.actual.all();
		List<Event> named = all.stream().filter((event) -> event.matches(eventName)).toList();
		if (named.isEmpty()) {
			failWithMessage("%s",
					"Expected an event '" + eventName + "' to be recorded, but the recorded events were:\n"
							+ EventDescriptions.events(all) + EventDescriptions.transactionHint());
		}
		return new EventsAssert(eventName, named);
	}

	/**
	 * Verify that no event of a name was recorded.
	 * @param eventName the event name
	 * @return this
	 */
	public RecordedEventsAssert doesNotContain(String eventName) {
		isNotNull();
		List<Event> named = this.actual.named(eventName);
		if (!named.isEmpty()) {
			failWithMessage("%s", "Expected no event '" + eventName + "' to be recorded, but " + named.size()
					+ " were:\n" + EventDescriptions.events(named));
		}
		return this;
	}

	/**
	 * Verify the names of all recorded events, in the order they were written.
	 * @param eventNames the expected names
	 * @return this
	 */
	public RecordedEventsAssert containsExactly(String... eventNames) {
		isNotNull();
		List<Event> all = this.actual.all();
		List<String> names = all.stream().map(Event::eventName).toList();
		if (!names.equals(Arrays.asList(eventNames))) {
			failWithMessage("%s", "Expected the recorded events to be exactly " + Arrays.toString(eventNames)
					+ ", but they were:\n" + EventDescriptions.events(all) + EventDescriptions.transactionHint());
		}
		return this;
	}

	/**
	 * Verify that no event was recorded.
	 * @return this
	 */
	public RecordedEventsAssert isEmpty() {
		isNotNull();
		List<Event> all = this.actual.all();
		if (!all.isEmpty()) {
			failWithMessage("%s", "Expected no recorded events, but there were " + all.size() + ":\n"
					+ EventDescriptions.events(all));
		}
		return this;
	}

}
