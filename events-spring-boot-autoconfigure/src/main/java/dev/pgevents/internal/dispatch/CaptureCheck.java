package dev.pgevents.internal.dispatch;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import javax.sql.DataSource;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import dev.pgevents.internal.capture.AuditSchema;
import dev.pgevents.internal.capture.AuditedTable;
import dev.pgevents.internal.capture.SchemaDiff;

import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Watches, while the application runs, that every audited table keeps its capture
 * triggers: a table that lost one (a {@code DROP TRIGGER}, a migration that recreated the
 * table) produces no events for that operation, which must never go unnoticed. It logs an
 * error once when a table loses a trigger, and once more when the table has all of them
 * again. Reading the catalog takes no lock.
 */
final class CaptureCheck {

	private static final Log logger = LogFactory.getLog(CaptureCheck.class);

	private static final Duration INTERVAL = Duration.ofSeconds(10);

	private final SchemaDiff diff;

	private final List<AuditedTable> tables;

	private volatile Map<String, List<String>> missing = Map.of();

	private long next;

	CaptureCheck(DataSource dataSource, AuditSchema schema, List<AuditedTable> tables) {
		this.diff = new SchemaDiff(new JdbcTemplate(dataSource), schema);
		this.tables = tables;
	}

	/**
	 * Check the triggers if the interval has passed since the last check.
	 */
	void checkIfDue() {
		if (System.nanoTime() - this.next < 0) {
			return;
		}
		Map<String, List<String>> missing = new LinkedHashMap<>();
		for (AuditedTable table : this.tables) {
			List<String> operations = this.diff.missingTriggers(table);
			List<String> before = this.missing.getOrDefault(table.name(), List.of());
			if (!operations.isEmpty()) {
				missing.put(table.name(), operations);
				if (!operations.equals(before)) {
					logger.error("Table '" + table.name() + "' has lost its " + String.join(", ", operations)
							+ " capture trigger(s): those changes of it are not captured and no event is delivered "
							+ "for them. Restart an instance with events.schema.initialize=always to reinstall them, "
							+ "or install capture-trigger.sql with your migrations (see docs/schema.md)");
				}
			}
			else if (!before.isEmpty()) {
				logger.info("Table '" + table.name() + "' has all its capture triggers again");
			}
		}
		this.missing = Map.copyOf(missing);
		this.next = System.nanoTime() + INTERVAL.toNanos();
	}

	/**
	 * The tables that lacked capture triggers at the last check.
	 * @return the operations whose trigger each lacks, by table name
	 */
	Map<String, List<String>> missing() {
		return this.missing;
	}

}
