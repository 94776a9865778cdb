package dev.pgevents;

import java.time.Instant;
import java.util.Arrays;

import com.fasterxml.jackson.annotation.JsonInclude;
import org.jspecify.annotations.Nullable;

import dev.pgevents.internal.dispatch.EventPattern;

/**
 * A committed row change, as delivered to {@link EventSubscriber} methods and
 * {@link EventHandler}s. Serialized with Jackson it is the Keel event JSON plus
 * {@code id}:
 * {@code {"id","eventName","occurredAt","identityId","target":{"id","type","data","previousData"}}},
 * with {@code "causedBy"} when a subscriber caused the change.
 *
 * @param id stable identifier of this change (the audit row id): the same on every
 * delivery of the change, so subscribers can deduplicate with it
 * @param eventName <em>table</em>{@code .created}, {@code .updated}, {@code .deleted},
 * {@code .truncated} or {@code .snapshot}, for example {@code member.created}; the table
 * is named with its schema when it is not in the application's (its connections' current
 * schema), for example {@code billing.invoice.created}
 * @param occurredAt when the row was written (not when the event was dispatched)
 * @param identityId who made the change, as resolved by the {@link IdentityResolver} of
 * the writing transaction; {@code null} when unknown or written outside the application
 * @param target the changed row
 * @param causedBy the id of the event whose subscriber made this change (in the
 * subscriber's thread, while it was called), or {@code null} for a change no subscriber
 * made (left out of the JSON then, which is Keel's): follow it to trace a chain of events
 */
public record Event(String id, String eventName, Instant occurredAt, @Nullable String identityId, EventTarget target,
		@JsonInclude(JsonInclude.Include.NON_NULL) @Nullable String causedBy) {

	/**
	 * An event that no subscriber caused.
	 * @param id stable identifier of this change
	 * @param eventName the event name
	 * @param occurredAt when the row was written
	 * @param identityId who made the change
	 * @param target the changed row
	 */
	public Event(String id, String eventName, Instant occurredAt, @Nullable String identityId, EventTarget target) {
		this(id, eventName, occurredAt, identityId, target, null);
	}

	/** Suffix of the event name of an inserted row. */
	public static final String CREATED = "created";

	/** Suffix of the event name of an updated row. */
	public static final String UPDATED = "updated";

	/** Suffix of the event name of a deleted row. */
	public static final String DELETED = "deleted";

	/**
	 * Suffix of the event name of a table emptied with {@code TRUNCATE}: one event per
	 * statement, about no row (its target has an empty id and data).
	 */
	public static final String TRUNCATED = "truncated";

	/**
	 * Suffix of the event name of a row as it is, sent to one subscriber by
	 * {@link EventDeliveries#backfill}: its data is the row, its previous data null.
	 */
	public static final String SNAPSHOT = "snapshot";

	/**
	 * The table the changed row is in, as the event name names it: {@code member} for
	 * {@code member.created}, {@code billing.invoice} for
	 * {@code billing.invoice.created}.
	 * @return the event name without its operation
	 */
	public String table() {
		return this.eventName.substring(0, this.eventName.lastIndexOf('.'));
	}

	/**
	 * What happened to the row.
	 * @return the operation the event name ends with
	 */
	public Operation operation() {
		return Operation.of(this.eventName.substring(this.eventName.lastIndexOf('.') + 1));
	}

	/**
	 * Whether this event has the given name, or one that the pattern stands for, as in
	 * {@link EventSubscriber#value()}: <em>table</em>{@code .*} for the table's created,
	 * updated and deleted events (not truncated or snapshot),
	 * {@code *.}<em>operation</em> for that operation of every table.
	 * @param nameOrPattern an event name ({@code member.created}) or a pattern
	 * ({@code member.*}, {@code *.deleted})
	 * @return whether this event is one it names
	 * @throws IllegalArgumentException when it is neither a valid name nor a pattern
	 */
	public boolean matches(String nameOrPattern) {
		return EventPattern.parse(nameOrPattern).matches(this.eventName);
	}

	/**
	 * What happened to a row: the last part of an event's name.
	 */
	public enum Operation {

		/** The row was inserted. */
		CREATED(Event.CREATED),

		/** The row was updated. */
		UPDATED(Event.UPDATED),

		/** The row was deleted. */
		DELETED(Event.DELETED),

		/** The table was emptied with {@code TRUNCATE}. */
		TRUNCATED(Event.TRUNCATED),

		/** The row as it is, sent by a backfill. */
		SNAPSHOT(Event.SNAPSHOT);

		private final String suffix;

		Operation(String suffix) {
			this.suffix = suffix;
		}

		/**
		 * The operation's part of event names.
		 * @return {@code created}, {@code updated}, {@code deleted}, {@code truncated} or
		 * {@code snapshot}
		 */
		public String suffix() {
			return this.suffix;
		}

		/**
		 * The operation an event name ends with.
		 * @param suffix the last part of an event name
		 * @return the operation
		 * @throws IllegalArgumentException when it is none
		 */
		public static Operation of(String suffix) {
			for (Operation operation : values()) {
				if (operation.suffix.equals(suffix)) {
					return operation;
				}
			}
			throw new IllegalArgumentException(
					"'" + suffix + "' is not an operation: " + Arrays.stream(values()).map(Operation::suffix).toList());
		}

	}

}
