package dev.pgevents.internal.dispatch;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import javax.sql.DataSource;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import dev.pgevents.internal.capture.AuditSchema;

import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Stops event loops: a change that subscriber calls led to more than
 * {@code events.dispatch.max-chain-depth} times in a row (a subscriber of
 * {@code counter.updated} that updates the counter) is not delivered but dead-lettered,
 * with the chain's events named, and a warning once per subscriber.
 */
final class ChainLimit {

	private static final Log logger = LogFactory.getLog(ChainLimit.class);

	/** How many of a chain's events its dead letter names, the newest. */
	private static final int NAMED = 8;

	private final int maxDepth;

	private final JdbcTemplate jdbc;

	private final String chain;

	private final Set<String> warned = ConcurrentHashMap.newKeySet();

	/**
	 * @param maxDepth the deepest chain delivered
	 */
	ChainLimit(DataSource dataSource, AuditSchema schema, int maxDepth) {
		this.maxDepth = maxDepth;
		this.jdbc = new CustomPlanJdbc(dataSource);
		this.chain = """
				WITH RECURSIVE chain (id, name, caused_by, n) AS (
					SELECT id, table_name || '.' || op, caused_by, 1 FROM %1$s WHERE id = ?
					UNION ALL
					SELECT a.id, a.table_name || '.' || a.op, a.caused_by, c.n + 1
					FROM %1$s a JOIN chain c ON a.id = c.caused_by WHERE c.n < %2$d)
				SELECT name FROM chain ORDER BY n DESC
				""".formatted(schema.auditTable(), NAMED);
	}

	/**
	 * Why a row's event is not delivered to a subscriber, if its chain is too deep.
	 * @param row the row
	 * @param subscriber the subscriber
	 * @return the dead letter's reason, or {@code null} to deliver it
	 */
	@Nullable String exceeded(AuditRow row, String subscriber) {
		if (row.chainDepth() < this.maxDepth) {
			return null;
		}
		String reason = "event chain deeper than " + this.maxDepth + ": " + describe(row);
		if (this.warned.add(subscriber)) {
			logger.warn("Subscriber '" + subscriber + "' is in an event loop: " + reason + " (event " + row.id()
					+ "); its deliveries that deep are dead-lettered (logged once per subscriber; raise "
					+ "events.dispatch.max-chain-depth for a longer legitimate chain)");
		}
		return reason;
	}

	private String describe(AuditRow row) {
		try {
			List<String> names = this.jdbc.queryForList(this.chain, String.class, row.id());
			return ((row.chainDepth() >= names.size()) ? "… → " : "") + String.join(" → ", names);
		}
		catch (RuntimeException ex) {
			return row.eventName() + " at depth " + row.chainDepth();
		}
	}

}
