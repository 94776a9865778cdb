package dev.pgevents.internal.dispatch;

import java.sql.Connection;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import javax.sql.DataSource;

import dev.pgevents.internal.capture.AuditSchema;

import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Claims the ledger entries of this instance's subscribers that are due (retries,
 * replays, rows handed over by instances that lack the subscriber) and delivers them. An
 * entry is claimed under a lease and a new lease token, which fences out an earlier
 * claimer whose lease expired: only the holder of the current token records the outcome.
 */
final class DueDeliveries {

	private final JdbcTemplate jdbc;

	private final SubscriberRegistry subscribers;

	private final SendEvents sendEvents;

	private final int batchSize;

	private final Duration lease;

	private final String claim;

	private final String selectRows;

	DueDeliveries(DataSource dataSource, AuditSchema schema, SubscriberRegistry subscribers, SendEvents sendEvents,
			int batchSize, Duration lease) {
		this.jdbc = new AuditJdbc(dataSource);
		this.subscribers = subscribers;
		this.sendEvents = sendEvents;
		this.batchSize = batchSize;
		this.lease = lease;
		this.claim = """
				WITH due AS (
					SELECT audit_id, subscriber FROM %1$s
					WHERE status = '%2$s' AND subscriber = ANY (?::text[]) AND next_attempt_at <= clock_timestamp()
						AND (lease_until IS NULL OR lease_until < clock_timestamp())
					ORDER BY next_attempt_at LIMIT ?
					FOR UPDATE SKIP LOCKED
				)
				UPDATE %1$s d SET lease_until = clock_timestamp() + ? * interval '1 millisecond',
					lease_token = d.lease_token + 1
				FROM due WHERE d.audit_id = due.audit_id AND d.subscriber = due.subscriber
				RETURNING d.audit_id, d.subscriber, d.attempts, d.lease_token
				""".formatted(schema.deliveryTable(), LedgerStatus.PENDING);
		this.selectRows = "SELECT " + AuditRow.COLUMNS + " FROM " + schema.auditTable() + " WHERE id = ANY (?)";
	}

	/**
	 * Claim a batch of due entries, and deliver them in audit-row order.
	 * @return the entries claimed
	 */
	int relay() {
		List<String> names = this.subscribers.names();
		if (names.isEmpty()) {
			return 0;
		}
		List<DeliveryLedger.ClaimedDelivery> entries = this.jdbc.query(this.claim,
				(rs, row) -> new DeliveryLedger.ClaimedDelivery(rs.getLong(1), rs.getString(2), rs.getInt(3),
						rs.getInt(4)),
				this.jdbc.execute((Connection connection) -> connection.createArrayOf("text", names.toArray())),
				this.batchSize, this.lease.toMillis());
		if (entries.isEmpty()) {
			return 0;
		}
		Long[] ids = entries.stream().map(DeliveryLedger.ClaimedDelivery::auditId).distinct().toArray(Long[]::new);
		Map<Long, AuditRow> rows = this.jdbc
			.query(this.selectRows, (rs, row) -> AuditRow.read(rs),
					this.jdbc.execute((Connection connection) -> connection.createArrayOf("bigint", ids)))
			.stream()
			.collect(Collectors.toMap(AuditRow::id, Function.identity()));
		entries.stream().sorted(Comparator.comparingLong(DeliveryLedger.ClaimedDelivery::auditId)).forEach((entry) -> {
			AuditRow row = rows.get(entry.auditId());
			if (row == null) {
				this.sendEvents.gone(entry);
			}
			else {
				this.sendEvents.deliver(entry, row);
			}
		});
		return entries.size();
	}

}
