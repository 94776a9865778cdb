package dev.pgevents.internal.dispatch;

import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import javax.sql.DataSource;

import dev.pgevents.internal.capture.AuditSchema;

import org.springframework.jdbc.core.BatchPreparedStatementSetter;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Keeps this instance's subscribers, and the events each takes, in the registry shared by
 * every instance: at startup, so that other instances hand over at once, and every minute
 * after, so that a subscriber no running instance has any more expires.
 * <p>
 * Subscribers that are not shared (a test context's) are registered as never seen: the
 * capture trigger still wakes the relays for their events, which is all this instance
 * needs, but no instance hands them events, and they never replace the registration of an
 * instance that shares a subscriber of the same name.
 */
final class SubscriberHeartbeat {

	private static final Duration INTERVAL = Duration.ofMinutes(1);

	private final JdbcTemplate jdbc;

	private final Subscriptions subscribers;

	private final String register;

	private long next;

	/**
	 * @param dataSource the audited database
	 * @param schema the audit schema
	 * @param subscribers this instance's subscribers
	 * @param shared whether the other instances hand them the events they lack
	 */
	SubscriberHeartbeat(DataSource dataSource, AuditSchema schema, Subscriptions subscribers, boolean shared) {
		this.jdbc = new CustomPlanJdbc(dataSource);
		this.subscribers = subscribers;
		String insert = "INSERT INTO " + schema.subscriberTable() + " AS s (name, events, last_seen_at) VALUES (?, ?, ";
		this.register = shared
				? insert + "clock_timestamp()) ON CONFLICT (name) DO UPDATE"
						+ " SET events = excluded.events, last_seen_at = excluded.last_seen_at"
				: insert + "'-infinity') ON CONFLICT (name) DO UPDATE SET events = excluded.events"
						+ " WHERE s.last_seen_at = '-infinity'";
	}

	/**
	 * Register the subscribers if a minute has passed since the last time.
	 */
	void beatIfDue() {
		if (System.nanoTime() - this.next < 0) {
			return;
		}
		List<Map.Entry<String, List<String>>> entries = new ArrayList<>(
				this.subscribers.eventNamesBySubscriber().entrySet());
		if (!entries.isEmpty()) {
			this.jdbc.batchUpdate(this.register, new BatchPreparedStatementSetter() {

				@Override
				public void setValues(PreparedStatement ps, int i) throws SQLException {
					ps.setString(1, entries.get(i).getKey());
					ps.setArray(2, ps.getConnection().createArrayOf("text", entries.get(i).getValue().toArray()));
				}

				@Override
				public int getBatchSize() {
					return entries.size();
				}

			});
		}
		this.next = System.nanoTime() + INTERVAL.toNanos();
	}

}
