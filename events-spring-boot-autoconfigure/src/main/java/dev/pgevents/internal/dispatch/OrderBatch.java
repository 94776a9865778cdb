package dev.pgevents.internal.dispatch;

import java.sql.SQLException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.jspecify.annotations.Nullable;

import dev.pgevents.Event;

/**
 * What holds back the ordered deliveries of one batch of rows (a transaction's, or a
 * relay's claim), kept while the batch is delivered: what the database says, and the rows
 * whose delivery to a subscriber failed or waits in the batch itself, which hold back
 * that row's later events in the batch.
 */
final class OrderBatch {

	private final Set<Long> inFlight = new HashSet<>();

	private final Map<Long, Set<String>> held = new HashMap<>();

	private final Set<String> heldHere = new HashSet<>();

	/**
	 * Record what the database says of a row.
	 * @param id the audit row
	 * @param inFlight whether an earlier row of its key is undispatched
	 * @param held the subscribers whose ledger holds it back, or {@code null}
	 * @throws SQLException when the driver fails
	 */
	void read(long id, boolean inFlight, java.sql.@Nullable Array held) throws SQLException {
		if (inFlight) {
			this.inFlight.add(id);
		}
		if (held != null) {
			String[] subscribers = (String[]) held.getArray();
			if (subscribers.length > 0) {
				this.held.put(id, Set.copyOf(List.of(subscribers)));
			}
		}
	}

	/**
	 * Whether an ordered subscriber must wait with a row's event.
	 * @param subscriber the subscriber
	 * @param row the audit row
	 * @param key the row's key
	 * @return whether to wait
	 */
	boolean mustWait(String subscriber, AuditRow row, String key) {
		return this.inFlight.contains(row.id()) || this.held.getOrDefault(row.id(), Set.of()).contains(subscriber)
				|| this.heldHere.contains(subscriber + '\0' + key)
				|| this.heldHere.contains(subscriber + '\0' + row.tableName() + '\0');
	}

	/**
	 * A row's event was not delivered to an ordered subscriber (it failed, or waits): the
	 * row's later events of the batch wait too.
	 * @param subscriber the subscriber
	 * @param key the row's key
	 */
	void hold(String subscriber, String key) {
		this.heldHere.add(subscriber + '\0' + key);
	}

	/**
	 * A row whose key cannot be read (its data cannot be read as an event) was
	 * dead-lettered for an ordered subscriber: every later row of its table in the batch
	 * waits for that subscriber.
	 * @param subscriber the subscriber
	 * @param table the row's table
	 */
	void holdTable(String subscriber, String table) {
		this.heldHere.add(subscriber + '\0' + table + '\0');
	}

	/**
	 * A row's key, as {@link #mustWait} and {@link #hold} take it.
	 * @param row the audit row
	 * @param event its event
	 * @return the key
	 */
	static String key(AuditRow row, Event event) {
		return row.tableName() + '\0' + event.target().id();
	}

}
