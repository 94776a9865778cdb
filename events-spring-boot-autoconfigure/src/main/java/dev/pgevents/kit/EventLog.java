package dev.pgevents.kit;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.jspecify.annotations.Nullable;

import dev.pgevents.Delivery;
import dev.pgevents.Event;
import dev.pgevents.internal.dispatch.EventFactory;

/**
 * The audit log as the test kit ({@code events-spring-boot-test}) reads it: the committed
 * changes of the application's audited tables after a position, and how far their
 * delivery to this instance's subscribers has come. A bean of the running starter. Every
 * read runs in a transaction of the starter's own, so a caller inside a transaction sees
 * what has committed and its transaction is left as it was.
 */
public interface EventLog {

	/**
	 * Where the audit log stands now: the newest change written so far, and the
	 * database's clock (deliveries made again later, by a replay or a rewind, are
	 * recognized by it).
	 * @return the position
	 */
	Position position();

	/**
	 * The committed changes after a position, in the order they were written.
	 * @param after the position
	 * @return their events
	 */
	List<Event> events(long after);

	/**
	 * The changes a subscriber of this instance has taken since a position: changes
	 * written after it that were handed to the subscriber (or to nobody, when dispatched
	 * before the subscriber existed), and earlier changes delivered to it again since (a
	 * replay, a rewind).
	 * @param since the position
	 * @param subscriber the subscriber
	 * @return their events, in the order they were written
	 */
	List<Event> takenBy(Position since, String subscriber);

	/**
	 * The ledger entries of this instance's subscribers for the changes after a position:
	 * deliveries that failed at least once, were dead-lettered, or were handed over.
	 * @param after the position
	 * @return the entries, in the order of their changes
	 */
	List<Delivery> deliveries(long after);

	/**
	 * The work not yet done since a position: changes written after it that are not
	 * dispatched, and deliveries to this instance's subscribers waiting for an attempt,
	 * of those changes or queued again since (a replay, a rewind, a backfill).
	 * @param since the position
	 * @param limit at most this many of each
	 * @return the work, changes first
	 */
	List<Outstanding> outstanding(Position since, int limit);

	/**
	 * The rows that this instance's ordered subscribers have parked: each behind a dead
	 * letter, its later events waiting until the dead letter is replayed or skipped.
	 * @param limit at most this many
	 * @return the parked rows, newest dead letter first
	 */
	List<Parked> parked(int limit);

	/**
	 * This instance's subscribers.
	 * @return subscriber name to the event names it takes
	 */
	Map<String, List<String>> subscribers();

	/**
	 * An event as the starter makes it of a row, for events made up in tests.
	 * @param id the change's id
	 * @param table the table, as events name it
	 * @param operation {@link Event#CREATED}, {@link Event#UPDATED},
	 * {@link Event#DELETED}, {@link Event#TRUNCATED} or {@link Event#SNAPSHOT}
	 * @param data the row after the change (the deleted row for a delete), as JSON with
	 * the column names as keys
	 * @param previousData the row before an update, as JSON, or {@code null}
	 * @param keyColumns the primary-key columns, in key order
	 * @param identityId who made the change
	 * @param occurredAt when the row was written
	 * @return the event
	 */
	static Event eventOf(long id, String table, String operation, String data, @Nullable String previousData,
			List<String> keyColumns, @Nullable String identityId, Instant occurredAt) {
		return EventFactory.event(id, table, operation, data, previousData, keyColumns, identityId, occurredAt);
	}

	/**
	 * A position in the audit log.
	 *
	 * @param end the newest change written at that moment, 0 when there was none
	 * @param at the database's clock at that moment
	 */
	public record Position(long end, Instant at) {

	}

	/**
	 * A row an ordered subscriber has parked.
	 *
	 * @param subscriber the subscriber
	 * @param row the row: its table and primary-key value
	 * @param eventId the dead letter's event, which the row waits behind
	 * @param eventName its name
	 * @param lastError why it was dead-lettered
	 * @param waiting how many of the row's later events wait behind it
	 */
	public record Parked(String subscriber, String row, String eventId, String eventName, @Nullable String lastError,
			long waiting) {

	}

	/**
	 * Work not yet done for one change.
	 *
	 * @param eventId the change's event id
	 * @param eventName its event name
	 * @param subscribers the subscribers waiting for it: those of this instance that take
	 * the event when it is not dispatched yet, else the one whose retry is due
	 * @param attempts the attempts made so far (0 when not dispatched yet)
	 * @param lastError the last attempt's error, or {@code null}
	 * @param nextAttemptAt when the next attempt is due, or {@code null} when not
	 * dispatched yet
	 */
	public record Outstanding(String eventId, String eventName, List<String> subscribers, int attempts,
			@Nullable String lastError, @Nullable Instant nextAttemptAt) {

		/**
		 * Whether the change has not been dispatched yet.
		 * @return {@code true} before its dispatch, {@code false} for a retry
		 */
		public boolean undispatched() {
			return this.nextAttemptAt == null;
		}

	}

}
