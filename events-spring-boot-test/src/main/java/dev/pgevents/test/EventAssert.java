package dev.pgevents.test;

import java.math.BigDecimal;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

import org.assertj.core.api.AbstractObjectAssert;
import org.jspecify.annotations.Nullable;

import dev.pgevents.Event;

/**
 * AssertJ assertions on one {@link Event}: {@code assertThat(event)} through
 * {@link EventAssert#assertThat(Event)}, or from {@link EventsAssert}.
 * <p>
 * Field values compare by meaning rather than by Java type, because an event's data is
 * the row as JSON: numbers by value ({@code 1}, {@code 1L} and {@code 1.0} are equal),
 * and a value that JSON carries as a string ({@code UUID}, an enum, a date) by its string
 * form.
 */
public final class EventAssert extends AbstractObjectAssert<EventAssert, Event> {

	EventAssert(Event actual) {
		super(actual, EventAssert.class);
	}

	/**
	 * Assertions on an event.
	 * @param event the event
	 * @return the assertions
	 */
	public static EventAssert assertThat(Event event) {
		return new EventAssert(event);
	}

	/**
	 * Verify the event name.
	 * @param eventName for example {@code member.created}
	 * @return this
	 */
	public EventAssert hasName(String eventName) {
		isNotNull();
		if (!this.actual.eventName().equals(eventName)) {
			fail("name", eventName, this.actual.eventName());
		}
		return this;
	}

	/**
	 * Verify the target id: the primary key as a string.
	 * @param id the key value ({@code String.valueOf} of it is compared)
	 * @return this
	 */
	public EventAssert hasTargetId(Object id) {
		isNotNull();
		if (!this.actual.target().id().equals(String.valueOf(id))) {
			fail("target id", id, this.actual.target().id());
		}
		return this;
	}

	/**
	 * Verify the target type: the table name in UpperCamelCase.
	 * @param type for example {@code MemberProfile}
	 * @return this
	 */
	public EventAssert hasType(String type) {
		isNotNull();
		if (!this.actual.target().type().equals(type)) {
			fail("type", type, this.actual.target().type());
		}
		return this;
	}

	/**
	 * Verify who made the change.
	 * @param identityId the identity, or {@code null} for none
	 * @return this
	 */
	public EventAssert hasIdentity(@Nullable String identityId) {
		isNotNull();
		if (!Objects.equals(this.actual.identityId(), identityId)) {
			fail("identity", identityId, this.actual.identityId());
		}
		return this;
	}

	/**
	 * Verify a field of the row after the change.
	 * @param field the key, in lowerCamelCase ({@code createdAt})
	 * @param value the expected value
	 * @return this
	 */
	public EventAssert hasData(String field, @Nullable Object value) {
		isNotNull();
		return field("data", this.actual.target().data(), field, value);
	}

	/**
	 * Verify a field of the row before the change (of an update, or the deleted row).
	 * @param field the key, in lowerCamelCase
	 * @param value the expected value
	 * @return this
	 */
	public EventAssert hasPreviousData(String field, @Nullable Object value) {
		isNotNull();
		Map<String, @Nullable Object> previous = this.actual.target().previousData();
		if (previous == null) {
			failWithMessage("%s", "Expected " + EventDescriptions.event(this.actual) + " to have previousData with "
					+ field + " = " + value + ", but it has no previous data (a created row)");
			return this;
		}
		return field("previousData", previous, field, value);
	}

	/**
	 * Verify the fields an update changed ({@code target().changedFields()}), in any
	 * order.
	 * @param fields the changed fields, in lowerCamelCase; none for a created or deleted
	 * row
	 * @return this
	 */
	public EventAssert hasChangedFields(String... fields) {
		isNotNull();
		Set<String> expected = Set.of(fields);
		if (!new HashSet<>(this.actual.target().changedFields()).equals(expected)) {
			failWithMessage("%s", "Expected " + EventDescriptions.event(this.actual) + " to have changed the fields "
					+ Arrays.toString(fields) + ", but it changed " + this.actual.target().changedFields());
		}
		return this;
	}

	private EventAssert field(String part, Map<String, @Nullable Object> row, String field, @Nullable Object value) {
		if (!row.containsKey(field)) {
			failWithMessage("%s", "Expected " + EventDescriptions.event(this.actual) + " to have " + part + "." + field
					+ " = " + value + ", but " + part + " has no field '" + field + "'; its fields: " + row.keySet());
		}
		else if (!sameValue(row.get(field), value)) {
			fail(part + "." + field, value, row.get(field));
		}
		return this;
	}

	private void fail(String what, @Nullable Object expected, @Nullable Object actual) {
		failWithMessage("%s", "Expected " + EventDescriptions.event(this.actual) + " to have " + what + " "
				+ describe(expected) + ", but it was " + describe(actual));
	}

	private static String describe(@Nullable Object value) {
		return (value instanceof String) ? "\"" + value + "\"" : String.valueOf(value);
	}

	/**
	 * Whether an event's value is the expected one: numbers by value, a string by the
	 * string form of the expectation when that is not a string, number or boolean.
	 */
	static boolean sameValue(@Nullable Object actual, @Nullable Object expected) {
		if (Objects.equals(actual, expected)) {
			return true;
		}
		if (actual instanceof Number number && expected instanceof Number other) {
			try {
				return new BigDecimal(number.toString()).compareTo(new BigDecimal(other.toString())) == 0;
			}
			catch (NumberFormatException ex) {
				// NaN or an infinity, equal only as equal doubles
				return number.doubleValue() == other.doubleValue();
			}
		}
		return actual instanceof String && expected != null && !(expected instanceof CharSequence)
				&& !(expected instanceof Number) && !(expected instanceof Boolean)
				&& actual.equals(expected.toString());
	}

}
