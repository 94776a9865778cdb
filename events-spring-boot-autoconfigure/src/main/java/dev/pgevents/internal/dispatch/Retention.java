package dev.pgevents.internal.dispatch;

import java.time.Duration;
import java.util.function.BooleanSupplier;

import javax.sql.DataSource;

import dev.pgevents.internal.capture.AuditSchema;

import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Deletes processed audit rows and delivered ledger entries older than the retention, a
 * batch per statement (rows locked by others are skipped, not waited for), at most once a
 * minute. Rows with a delivery still pending or dead-lettered are kept until it finishes.
 */
final class Retention {

	private static final int BATCH = 1000;

	private final JdbcTemplate jdbc;

	private final Duration retention;

	private final String deleteProcessedRows;

	private final String deleteDeliveredEntries;

	private long next;

	/**
	 * @param retention how long processed rows are kept; zero keeps them forever
	 */
	Retention(DataSource dataSource, AuditSchema schema, Duration retention) {
		this.jdbc = new AuditJdbc(dataSource);
		this.retention = retention;
		this.deleteProcessedRows = """
				DELETE FROM %1$s WHERE id IN (
					SELECT a.id FROM %1$s a
					WHERE a.event_processed_at IS NOT NULL
						AND a.created_at < clock_timestamp() - ? * interval '1 millisecond'
						AND NOT EXISTS (SELECT FROM %2$s d WHERE d.audit_id = a.id AND d.status NOT IN ('%4$s', '%5$s'))
					ORDER BY a.id LIMIT %3$d
					FOR UPDATE SKIP LOCKED)
				""".formatted(schema.auditTable(), schema.deliveryTable(), BATCH, LedgerStatus.DELIVERED,
				LedgerStatus.SKIPPED);
		this.deleteDeliveredEntries = """
				DELETE FROM %1$s WHERE (audit_id, subscriber) IN (
					SELECT audit_id, subscriber FROM %1$s
					WHERE status IN ('%3$s', '%4$s') AND updated_at < clock_timestamp() - ? * interval '1 millisecond'
					LIMIT %2$d
					FOR UPDATE SKIP LOCKED)
				""".formatted(schema.deliveryTable(), BATCH, LedgerStatus.DELIVERED, LedgerStatus.SKIPPED);
	}

	/**
	 * Delete what is past the retention, if it is time to.
	 * @param running whether to go on with another batch
	 */
	void sweepIfDue(BooleanSupplier running) {
		if (this.retention.isZero() || System.nanoTime() - this.next < 0) {
			return;
		}
		long cutoff = this.retention.toMillis();
		int deleted;
		do {
			deleted = this.jdbc.update(this.deleteProcessedRows, cutoff);
		}
		while (deleted == BATCH && running.getAsBoolean());
		do {
			deleted = this.jdbc.update(this.deleteDeliveredEntries, cutoff);
		}
		while (deleted == BATCH && running.getAsBoolean());
		Duration every = (this.retention.compareTo(Duration.ofMinutes(1)) < 0) ? this.retention : Duration.ofMinutes(1);
		this.next = System.nanoTime() + every.toNanos();
	}

}
