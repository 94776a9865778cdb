package dev.pgevents.test;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import org.jspecify.annotations.Nullable;
import tools.jackson.databind.json.JsonMapper;

import dev.pgevents.Event;
import dev.pgevents.kit.EventLog;

/**
 * Events for unit tests of subscriber methods, without Spring or a database: exactly what
 * the library delivers for a row change (event name, target type and id, lowerCamelCase
 * data keys, values as JSON carries them). <pre class="code">
 * Event created = TestEvents.created("member", Map.of("id", 7, "email", "ada@example.com"));
 * subscribers.verifyEmail(created);
 *
 * Event updated = TestEvents.table("order_line").key("order_id", "line_no").identity("alice")
 *     .updated(Map.of("order_id", 1, "line_no", 2, "qty", 1), Map.of("order_id", 1, "line_no", 2, "qty", 3));
 * </pre> Rows are maps of column names ({@code created_at}) to values; a value becomes
 * what the row's JSON would hold, so {@code 7} arrives as an {@code Integer}, {@code 1.5}
 * as a {@code BigDecimal} and an {@code Instant} or {@code UUID} as a string. Each event
 * gets a new id.
 */
public final class TestEvents {

	private static final AtomicLong ids = new AtomicLong();

	private static final JsonMapper json = JsonMapper.builder().build();

	private final String table;

	private final List<String> keyColumns;

	private final @Nullable String identityId;

	private final @Nullable Instant occurredAt;

	private TestEvents(String table, List<String> keyColumns, @Nullable String identityId,
			@Nullable Instant occurredAt) {
		this.table = table;
		this.keyColumns = keyColumns;
		this.identityId = identityId;
		this.occurredAt = occurredAt;
	}

	/**
	 * Events of a table whose primary key is {@code id}, or another key set with
	 * {@link #key}.
	 * @param table the table name
	 * @return a builder of its events
	 */
	public static TestEvents table(String table) {
		return new TestEvents(table, List.of("id"), null, null);
	}

	/**
	 * A created row of a table whose primary key is {@code id}.
	 * @param table the table name
	 * @param row the row
	 * @return {@code <table>.created}
	 */
	public static Event created(String table, Map<String, ?> row) {
		return table(table).created(row);
	}

	/**
	 * An updated row of a table whose primary key is {@code id}.
	 * @param table the table name
	 * @param previousRow the row before the change
	 * @param row the row after the change
	 * @return {@code <table>.updated}
	 */
	public static Event updated(String table, Map<String, ?> previousRow, Map<String, ?> row) {
		return table(table).updated(previousRow, row);
	}

	/**
	 * A deleted row of a table whose primary key is {@code id}.
	 * @param table the table name
	 * @param row the row as it was
	 * @return {@code <table>.deleted}
	 */
	public static Event deleted(String table, Map<String, ?> row) {
		return table(table).deleted(row);
	}

	/**
	 * A {@code TRUNCATE} of a table.
	 * @param table the table name
	 * @return {@code <table>.truncated}
	 */
	public static Event truncated(String table) {
		return table(table).truncated();
	}

	/**
	 * The table's primary-key columns, in key order; a composite key's target id is the
	 * values joined by {@code ","}.
	 * @param columns the key columns
	 * @return a builder with that key
	 */
	public TestEvents key(String... columns) {
		if (columns.length == 0) {
			throw new IllegalArgumentException("A primary key has at least one column");
		}
		return new TestEvents(this.table, List.of(columns), this.identityId, this.occurredAt);
	}

	/**
	 * Who made the change ({@link Event#identityId()}).
	 * @param identityId the identity
	 * @return a builder with that identity
	 */
	public TestEvents identity(String identityId) {
		return new TestEvents(this.table, this.keyColumns, identityId, this.occurredAt);
	}

	/**
	 * When the change was written; the current time when not set.
	 * @param occurredAt the instant
	 * @return a builder with that time
	 */
	public TestEvents occurredAt(Instant occurredAt) {
		return new TestEvents(this.table, this.keyColumns, this.identityId, occurredAt);
	}

	/**
	 * A created row.
	 * @param row the row
	 * @return {@code <table>.created}
	 */
	public Event created(Map<String, ?> row) {
		return event(Event.CREATED, row, null);
	}

	/**
	 * An updated row.
	 * @param previousRow the row before the change
	 * @param row the row after the change
	 * @return {@code <table>.updated}
	 */
	public Event updated(Map<String, ?> previousRow, Map<String, ?> row) {
		return event(Event.UPDATED, row, previousRow);
	}

	/**
	 * A deleted row.
	 * @param row the row as it was
	 * @return {@code <table>.deleted}
	 */
	public Event deleted(Map<String, ?> row) {
		return event(Event.DELETED, row, null);
	}

	/**
	 * A {@code TRUNCATE} of the table: an event about no row.
	 * @return {@code <table>.truncated}
	 */
	public Event truncated() {
		return make(Event.TRUNCATED, "{}", null);
	}

	private Event event(String op, Map<String, ?> row, @Nullable Map<String, ?> previousRow) {
		for (String key : this.keyColumns) {
			if (!row.containsKey(key)) {
				throw new IllegalArgumentException("The row of '" + this.table + "' has no key column '" + key
						+ "' (its columns: " + row.keySet() + "); give the row its key, or name the key columns "
						+ "with TestEvents.table(\"" + this.table + "\").key(...)");
			}
		}
		return make(op, json.writeValueAsString(row),
				(previousRow != null) ? json.writeValueAsString(previousRow) : null);
	}

	private Event make(String op, String row, @Nullable String previousRow) {
		return EventLog.eventOf(ids.incrementAndGet(), this.table, op, row, previousRow, this.keyColumns,
				this.identityId, (this.occurredAt != null) ? this.occurredAt : Instant.now());
	}

}
