package dev.pgevents.internal.dispatch;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import javax.sql.DataSource;

import org.jspecify.annotations.Nullable;

import dev.pgevents.internal.capture.AuditSchema;

import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Measures the backlog for the {@link DeliveryObserver} every few seconds, from the
 * relay's thread, so that a metrics scrape never queries the database: undispatched rows
 * and pending retries, dead letters, and the age of the oldest of what waits.
 */
final class Backlog {

	private static final Duration INTERVAL = Duration.ofSeconds(5);

	private final JdbcTemplate jdbc;

	private final DeliveryObserver observer;

	private final String select;

	private final RowOrder order;

	private final boolean measure;

	private volatile DeliveryEngine.@Nullable Measure last;

	private long next;

	Backlog(DataSource dataSource, AuditSchema schema, DeliveryObserver observer, boolean measure, RowOrder order) {
		this.jdbc = new CustomPlanJdbc(dataSource);
		this.observer = observer;
		this.order = order;
		this.measure = measure || observer.wantsBacklog();
		this.select = """
				SELECT
					(SELECT count(*) FROM %1$s WHERE event_processed_at IS NULL)
						+ (SELECT count(*) FROM %2$s WHERE status = '%3$s'),
					(SELECT count(*) FROM %2$s WHERE status = '%4$s'),
					coalesce(extract(epoch FROM clock_timestamp() - least(
						(SELECT min(created_at) FROM %1$s WHERE event_processed_at IS NULL),
						(SELECT min(next_attempt_at) FROM %2$s
							WHERE status = '%3$s' AND next_attempt_at < clock_timestamp()))) * 1000, 0)::bigint
				""".formatted(schema.auditTable(), schema.deliveryTable(), LedgerStatus.PENDING, LedgerStatus.DEAD);
	}

	/**
	 * Measure, if anyone wants it and the interval has passed.
	 */
	void measureIfDue() {
		if (!this.measure || System.nanoTime() - this.next < 0) {
			return;
		}
		this.next = System.nanoTime() + INTERVAL.toNanos();
		Map<String, Long> parked = new LinkedHashMap<>();
		if (this.order.applies()) {
			this.order.subscribers().forEach((subscriber) -> parked.put(subscriber, 0L));
			this.jdbc.query(this.order.parkedCounts(), (rs) -> {
				parked.put(rs.getString(1), rs.getLong(2));
			}, (Object) this.order.subscribers().toArray(String[]::new));
		}
		this.jdbc.query(this.select, (rs) -> {
			DeliveryEngine.Measure measured = new DeliveryEngine.Measure(rs.getLong(1), rs.getLong(2),
					Duration.ofMillis(Math.max(0, rs.getLong(3))), Map.copyOf(parked));
			this.last = measured;
			this.observer.backlog(measured.pending(), measured.dead(), measured.lag(), measured.parked());
		});
	}

	/**
	 * The last measure.
	 * @return it, or {@code null} before the first
	 */
	DeliveryEngine.@Nullable Measure last() {
		return this.last;
	}

}
