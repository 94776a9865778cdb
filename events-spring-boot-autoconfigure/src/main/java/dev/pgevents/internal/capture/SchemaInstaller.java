package dev.pgevents.internal.capture;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import dev.pgevents.internal.support.StartupFailure;

import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Installs the audit schema while other instances write the database: a rolling deploy
 * starts instances beside running ones.
 * <p>
 * The rule: installation never makes a writer fail or wait for long. Writers lock an
 * audited table, then (in the capture trigger) the audit table; DDL on either conflicts
 * with them, and a DDL statement waiting for its lock makes every writer that comes after
 * it wait too. So:
 * <ul>
 * <li>objects that already match their definitions are left alone (catalog reads take no
 * table locks): starting an instance of the same version changes nothing and locks
 * nothing;</li>
 * <li>what must change is changed under a short {@code lock_timeout}, and the whole
 * installation is tried again after a pause when a lock is not granted at once (a long
 * transaction holds it, or a writer would deadlock with the installation): the
 * installation gives way, never the writer;</li>
 * <li>instances that start together take turns through a transaction-scoped advisory
 * lock, so each sees what the previous one installed.</li>
 * </ul>
 */
public final class SchemaInstaller {

	private static final Log logger = LogFactory.getLog(SchemaInstaller.class);

	private static final long INSTALL_LOCK = 0x7067_6576_656e_7473L; // "pgevents"

	private static final Duration LOCK_TIMEOUT = Duration.ofMillis(200);

	private static final Duration GIVE_UP_AFTER = Duration.ofMinutes(2);

	private static final Duration MAX_PAUSE = Duration.ofSeconds(2);

	/** How long a concurrent index build waits for the transactions already running. */
	private static final Duration BUILD_LOCK_TIMEOUT = Duration.ofSeconds(10);

	private static final String INSUFFICIENT_PRIVILEGE = "42501";

	/** lock_not_available (lock_timeout) and deadlock_detected. */
	private static final List<String> LOCK_CONFLICTS = List.of("55P03", "40P01");

	private final AuditSchema schema;

	private final JdbcTemplate jdbc;

	private final OwnTransactions transactions;

	private final SchemaDiff diff;

	/**
	 * An installer of the audit schema.
	 * @param schema the audit schema's names
	 * @param dataSource the application's database
	 */
	public SchemaInstaller(AuditSchema schema, DataSource dataSource) {
		this.schema = schema;
		this.transactions = new OwnTransactions(dataSource);
		this.jdbc = new JdbcTemplate(this.transactions.dataSource());
		this.diff = new SchemaDiff(this.jdbc, schema);
	}

	/**
	 * Bring the audit and ledger tables, their indexes, the functions and the triggers of
	 * {@code tables} to their definitions, changing only what differs.
	 * @param tables the tables to audit
	 * @throws StartupFailure when the database user may not, or the locks it needs stay
	 * held for minutes
	 */
	public void install(List<AuditedTable> tables) {
		long deadline = System.nanoTime() + GIVE_UP_AFTER.toNanos();
		for (int attempt = 1;; attempt++) {
			try {
				List<SchemaDiff.Change> changed = this.transactions.write((status) -> installOnce(tables));
				List<String> installed = changed.stream()
					.filter((change) -> change.outsideTransaction().isEmpty())
					.map(SchemaDiff.Change::description)
					.toList();
				if (!installed.isEmpty()) {
					logger.info("Installed " + String.join(", ", installed));
				}
				changed.stream().filter((change) -> !change.outsideTransaction().isEmpty()).forEach(this::build);
				return;
			}
			catch (DataAccessException ex) {
				if (INSUFFICIENT_PRIVILEGE.equals(sqlState(ex))) {
					throw new StartupFailure(
							"The database user cannot install the audit schema (events.schema.initialize): "
									+ ex.getMostSpecificCause().getMessage(),
							"Grant that user CREATE on the schema of " + this.schema.auditTable()
									+ " and ownership of the audited tables (triggers need it), or install the schema "
									+ "with your migrations as a role that may, and set events.schema.initialize=never "
									+ "(see docs/schema.md)",
							ex);
				}
				if (!LOCK_CONFLICTS.contains(sqlState(ex))) {
					throw ex;
				}
				if (System.nanoTime() - deadline > 0) {
					throw new StartupFailure(
							"The audit schema could not be installed: for " + GIVE_UP_AFTER.toMinutes()
									+ " minutes, the locks it needs were held by other transactions (a long-running "
									+ "transaction on an audited table or on " + this.schema.auditTable()
									+ ": see pg_stat_activity)",
							"Installation gives way to writers: end that transaction and start again, or install "
									+ "the schema with your migrations (events.schema.initialize=never)",
							ex);
				}
				if (attempt == 1 || logger.isDebugEnabled()) {
					logger.info(
							"The audit schema waits for locks held by writers; trying again (" + ex.getMessage() + ")");
				}
				pause(attempt);
			}
		}
	}

	/**
	 * Build an index without holding up the writers of its table (CONCURRENTLY, outside
	 * any transaction). It only makes lookups faster: when it cannot be built now (it
	 * waited too long for the transactions already running, or another instance builds
	 * it), the failed attempt leaves an invalid index, which the next start replaces.
	 */
	private void build(SchemaDiff.Change change) {
		try {
			this.jdbc.execute((Connection connection) -> {
				try (Statement statement = connection.createStatement()) {
					statement.execute("SET lock_timeout = '" + BUILD_LOCK_TIMEOUT.toMillis() + "ms'");
					try {
						for (String sql : change.outsideTransaction()) {
							statement.execute(sql);
						}
					}
					finally {
						statement.execute("RESET lock_timeout");
					}
				}
				return Boolean.TRUE;
			});
			logger.info("Installed " + change.description());
		}
		catch (DataAccessException ex) {
			logger.warn("Cannot build " + change.description() + " now (" + ex.getMostSpecificCause().getMessage()
					+ "): ordered deliveries work without it, more slowly while rows wait for the relay; it is built "
					+ "at the next start");
		}
	}

	private List<SchemaDiff.Change> installOnce(List<AuditedTable> tables) {
		this.jdbc.query("SELECT pg_catalog.pg_advisory_xact_lock(?)", (rs) -> {
		}, INSTALL_LOCK);
		this.jdbc.query("SELECT pg_catalog.set_config('lock_timeout', ?, true)", (rs) -> {
		}, LOCK_TIMEOUT.toMillis() + "ms");
		List<SchemaDiff.Change> changes = this.diff.changes(tables);
		changes.stream()
			.filter((change) -> change.outsideTransaction().isEmpty())
			.forEach((change) -> change.statements().forEach(this.jdbc::execute));
		return changes;
	}

	private static @Nullable String sqlState(DataAccessException ex) {
		for (Throwable cause = ex; cause != null; cause = cause.getCause()) {
			if (cause instanceof SQLException sql && sql.getSQLState() != null) {
				return sql.getSQLState();
			}
		}
		return null;
	}

	private static void pause(int attempt) {
		long ceiling = Math.min(MAX_PAUSE.toMillis(), 50L << Math.min(attempt, 10));
		try {
			TimeUnit.MILLISECONDS.sleep(ThreadLocalRandom.current().nextLong(ceiling / 2, ceiling + 1));
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("Interrupted while installing the audit schema", ex);
		}
	}

}
