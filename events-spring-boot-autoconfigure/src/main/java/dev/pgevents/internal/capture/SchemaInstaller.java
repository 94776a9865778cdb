package dev.pgevents.internal.capture;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import javax.sql.DataSource;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import dev.pgevents.internal.support.StartupFailure;

import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.core.JdbcOperations;
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
final class SchemaInstaller {

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

	/** The application schema that an installed capture function names tables by. */
	private static final Pattern INSTALLED_APPLICATION_SCHEMA = Pattern
		.compile("WHEN TG_TABLE_SCHEMA OPERATOR\\(pg_catalog\\.=\\) '((?:[^']|'')*)' THEN");

	private static final String FIND_FUNCTION = """
			SELECT p.prosrc, p.prosecdef, pg_catalog.has_function_privilege('public', p.oid, 'EXECUTE')
			FROM pg_catalog.pg_proc p WHERE p.oid = pg_catalog.to_regprocedure(?)
			""";

	private static final String FIND_TRIGGERS = """
			SELECT t.tgname, t.tgfoid = pg_catalog.to_regprocedure(?) AND t.tgtype = ? AND t.tgenabled = 'O'
				AND t.tgoldtable IS NOT DISTINCT FROM ? AND t.tgnewtable IS NOT DISTINCT FROM ?
				AND t.tgargs = ?
			FROM pg_catalog.pg_trigger t
			WHERE t.tgrelid = pg_catalog.to_regclass(?) AND t.tgname = ?
			""";

	private final AuditSchema schema;

	private final JdbcTemplate jdbc;

	private final OwnTransactions transactions;

	SchemaInstaller(AuditSchema schema, DataSource dataSource) {
		this.schema = schema;
		this.transactions = new OwnTransactions(dataSource);
		this.jdbc = new JdbcTemplate(this.transactions.dataSource());
	}

	void install(List<AuditedTable> tables) {
		long deadline = System.nanoTime() + GIVE_UP_AFTER.toNanos();
		for (int attempt = 1;; attempt++) {
			try {
				List<Change> changed = this.transactions.write((status) -> installOnce(tables));
				List<String> installed = changed.stream()
					.filter((change) -> change.outsideTransaction().isEmpty())
					.map(Change::description)
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
	private void build(Change change) {
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

	private List<Change> installOnce(List<AuditedTable> tables) {
		this.jdbc.query("SELECT pg_catalog.pg_advisory_xact_lock(?)", (rs) -> {
		}, INSTALL_LOCK);
		this.jdbc.query("SELECT pg_catalog.set_config('lock_timeout', ?, true)", (rs) -> {
		}, LOCK_TIMEOUT.toMillis() + "ms");
		List<Change> changes = changes(this.jdbc, this.schema, tables);
		changes.stream()
			.filter((change) -> change.outsideTransaction().isEmpty())
			.forEach((change) -> change.statements().forEach(this.jdbc::execute));
		return changes;
	}

	/**
	 * What the installation changes: one entry per object (or per table's triggers) that
	 * is missing or differs from its definition, in the order of installation. Catalog
	 * reads only: finding nothing to change takes no lock.
	 */
	static List<Change> changes(JdbcOperations jdbc, AuditSchema schema, List<AuditedTable> tables) {
		List<Change> changes = new ArrayList<>();
		relations(schema).forEach((script, relation) -> {
			if (script.equals("audit-pending-index") && exists(jdbc, schema.auditTable())
					&& !hasColumn(jdbc, schema.auditTable(), "caused_by")) {
				changes.add(new Change(schema.auditTable() + ".caused_by",
						List.of(schema.render("audit-causation", Map.of()))));
			}
			if (script.equals("delivery-row-index") && exists(jdbc, schema.deliveryTable())
					&& !hasColumn(jdbc, schema.deliveryTable(), "row_key")) {
				changes.add(new Change(schema.deliveryTable() + ".row_key",
						List.of(schema.render("delivery-row-key", Map.of()))));
			}
			if (!exists(jdbc, relation)) {
				changes.add(new Change(relation, List.of(schema.render(script, Map.of()))));
			}
		});
		String capture = schema.render("capture-function", Map.of());
		Optional<InstalledFunction> installedCapture = installed(jdbc, schema.captureFunction() + "()");
		if (!matches(installedCapture, capture, true)) {
			installedCapture.ifPresent((installed) -> verifySameApplicationSchema(installed, schema));
			changes.add(new Change(schema.captureFunction() + "()",
					List.of(capture, schema.render("capture-function-grant", Map.of()))));
		}
		String pending = schema.render("pending-function", Map.of());
		if (!matches(installed(jdbc, schema.pendingFunction() + "(uuid, bigint, integer)"), pending, false)) {
			changes.add(new Change(schema.pendingFunction() + "()", List.of(pending)));
		}
		for (AuditedTable table : tables) {
			List<String> triggers = new ArrayList<>();
			List<String> statements = new ArrayList<>();
			for (CaptureTrigger trigger : CaptureTrigger.values()) {
				if (!triggerMatches(jdbc, schema, table, trigger)) {
					triggers.add(trigger.name());
					statements.add(schema.render("capture-trigger", trigger.placeholders(schema, table)));
				}
			}
			if (!triggers.isEmpty()) {
				changes.add(new Change("the " + String.join("/", triggers) + " capture triggers of " + table.relation(),
						statements));
			}
		}
		AuditSchema.OrderedFunction ordered = schema.orderedFunction(tables);
		if (tables.stream().anyMatch(AuditedTable::ordered) && installed(jdbc, ordered.signature()).isEmpty()) {
			changes.add(new Change(ordered.signature(), List.of(ordered.definition())));
		}
		for (AuditedTable table : tables) {
			Boolean valid = indexValid(jdbc, schema.orderIndex(table, true));
			if (table.ordered() && !Boolean.TRUE.equals(valid)) {
				changes.add(new Change(schema.orderIndex(table, true), orderIndex(schema, table, valid != null, false),
						orderIndex(schema, table, valid != null, true)));
			}
		}
		return changes;
	}

	/**
	 * The statements that build a table's index of undispatched rows by key, replacing an
	 * invalid one (a concurrent build that failed leaves one behind).
	 */
	private static List<String> orderIndex(AuditSchema schema, AuditedTable table, boolean invalid,
			boolean concurrently) {
		List<String> statements = new ArrayList<>();
		if (invalid) {
			statements.add("DROP INDEX " + (concurrently ? "CONCURRENTLY " : "") + "IF EXISTS "
					+ schema.orderIndex(table, true));
		}
		statements.add(schema.render("audit-order-index",
				Map.of("concurrently", concurrently ? "CONCURRENTLY " : "", "order_index",
						schema.orderIndex(table, false), "key", table.keyExpression(""), "table_literal",
						"'" + table.name().replace("'", "''") + "'")));
		return statements;
	}

	/**
	 * Whether an index is valid: {@code null} when there is none, {@code false} when a
	 * concurrent build of it failed.
	 */
	private static @Nullable Boolean indexValid(JdbcOperations jdbc, String index) {
		List<Boolean> valid = jdbc.queryForList(
				"SELECT i.indisvalid FROM pg_catalog.pg_index i WHERE i.indexrelid = pg_catalog.to_regclass(?)",
				Boolean.class, index);
		return valid.isEmpty() ? null : valid.get(0);
	}

	private static boolean hasColumn(JdbcOperations jdbc, String table, String column) {
		return Boolean.TRUE.equals(jdbc.queryForObject(
				"SELECT EXISTS (SELECT FROM pg_catalog.pg_attribute a "
						+ "WHERE a.attrelid = pg_catalog.to_regclass(?) AND a.attname = ? AND NOT a.attisdropped)",
				Boolean.class, table, column));
	}

	/**
	 * What this version needs of the audit table's and the ledger's columns and the
	 * indexes of ordered tables that is missing: a schema installed by an earlier version
	 * lacks them.
	 * @return the objects, quoted and schema-qualified
	 */
	static List<String> missingForOrder(JdbcOperations jdbc, AuditSchema schema, List<AuditedTable> tables) {
		List<String> missing = new ArrayList<>();
		if (!hasColumn(jdbc, schema.auditTable(), "caused_by")) {
			missing.add(schema.auditTable() + ".caused_by");
		}
		if (!hasColumn(jdbc, schema.deliveryTable(), "row_key")) {
			missing.add(schema.deliveryTable() + ".row_key");
		}
		if (!exists(jdbc, schema.rowIndex())) {
			missing.add(schema.rowIndex());
		}
		tables.stream()
			.filter(AuditedTable::ordered)
			.map((table) -> schema.orderIndex(table, true))
			.filter((index) -> !Boolean.TRUE.equals(indexValid(jdbc, index)))
			.forEach(missing::add);
		AuditSchema.OrderedFunction ordered = schema.orderedFunction(tables);
		if (tables.stream().anyMatch(AuditedTable::ordered) && installed(jdbc, ordered.signature()).isEmpty()) {
			missing.add(ordered.signature());
		}
		return missing;
	}

	/**
	 * The scripts that create the audit schema's relations, in order, and each relation.
	 */
	private static Map<String, String> relations(AuditSchema schema) {
		Map<String, String> relations = new LinkedHashMap<>();
		relations.put("audit-table", schema.auditTable());
		relations.put("audit-pending-index", schema.pendingIndex());
		relations.put("delivery-table", schema.deliveryTable());
		relations.put("delivery-due-index", schema.dueIndex());
		relations.put("delivery-row-index", schema.rowIndex());
		relations.put("subscriber-table", schema.subscriberTable());
		relations.put("instance-table", schema.instanceTable());
		return relations;
	}

	/**
	 * Every statement of the audit schema and the capture triggers of {@code tables}, in
	 * the order of installation. Each can run again: relations are created if they do not
	 * exist, functions and triggers created or replaced.
	 */
	static List<String> statements(AuditSchema schema, List<AuditedTable> tables) {
		List<String> statements = new ArrayList<>();
		relations(schema).keySet().forEach((script) -> {
			if (script.equals("audit-pending-index")) {
				statements.add(schema.render("audit-causation", Map.of()));
			}
			if (script.equals("delivery-row-index")) {
				statements.add(schema.render("delivery-row-key", Map.of()));
			}
			statements.add(schema.render(script, Map.of()));
		});
		for (String script : List.of("capture-function", "capture-function-grant", "pending-function")) {
			statements.add(schema.render(script, Map.of()));
		}
		for (AuditedTable table : tables) {
			for (CaptureTrigger trigger : CaptureTrigger.values()) {
				statements.add(schema.render("capture-trigger", trigger.placeholders(schema, table)));
			}
		}
		tables.stream()
			.filter(AuditedTable::ordered)
			.forEach((table) -> statements.addAll(orderIndex(schema, table, false, false)));
		if (tables.stream().anyMatch(AuditedTable::ordered)) {
			statements.add(schema.orderedFunction(tables).definition());
		}
		return statements;
	}

	/**
	 * Refuse to replace a capture function installed for another application schema: the
	 * applications that share the audit table would see the events of their tables
	 * renamed (a table is named without its schema in its own application schema only).
	 */
	private static void verifySameApplicationSchema(InstalledFunction capture, AuditSchema schema) {
		Matcher installed = INSTALLED_APPLICATION_SCHEMA.matcher(capture.body());
		if (installed.find() && !installed.group(1).replace("''", "'").equals(schema.applicationSchema())) {
			String other = installed.group(1).replace("''", "'");
			throw new StartupFailure(
					"The capture function " + schema.captureFunction()
							+ "() was installed by an application whose schema is '" + other + "', and this one's is '"
							+ schema.applicationSchema() + "' (its connections' current schema): the applications that "
							+ "share " + schema.auditTable() + " would see the events of their tables renamed",
					"Give the applications that share it one current schema (search_path, or currentSchema in the "
							+ "JDBC URL), or separate audit tables (events.audit.table-name). If the schema changed "
							+ "for good, drop the function (DROP FUNCTION " + schema.captureFunction()
							+ "() CASCADE, which drops its triggers too) and restart the applications");
		}
	}

	private static boolean exists(JdbcOperations jdbc, String relation) {
		return Boolean.TRUE
			.equals(jdbc.queryForObject("SELECT pg_catalog.to_regclass(?) IS NOT NULL", Boolean.class, relation));
	}

	/**
	 * The capture function when it is missing, and each function installed in another
	 * definition than this version's (by an earlier version, or rendered for another
	 * application schema).
	 * @return the functions, quoted and schema-qualified
	 */
	static List<String> outdatedFunctions(JdbcOperations jdbc, AuditSchema schema) {
		List<String> outdated = new ArrayList<>();
		if (!matches(installed(jdbc, schema.captureFunction() + "()"), schema.render("capture-function", Map.of()),
				true)) {
			outdated.add(schema.captureFunction() + "()");
		}
		String pending = schema.pendingFunction() + "(uuid, bigint, integer)";
		Optional<InstalledFunction> installedPending = installed(jdbc, pending);
		if (installedPending.isPresent()
				&& !matches(installedPending, schema.render("pending-function", Map.of()), false)) {
			outdated.add(pending);
		}
		return outdated;
	}

	private static Optional<InstalledFunction> installed(JdbcOperations jdbc, String signature) {
		return jdbc
			.query(FIND_FUNCTION,
					(rs, row) -> new InstalledFunction(rs.getString(1), rs.getBoolean(2), rs.getBoolean(3)), signature)
			.stream()
			.findFirst();
	}

	private static boolean matches(Optional<InstalledFunction> installed, String definition, boolean securityDefiner) {
		// a security definer must not be executable by everyone (see
		// capture-function-grant.sql)
		return installed
			.filter((function) -> body(definition).equals(function.body())
					&& function.securityDefiner() == securityDefiner && !(securityDefiner && function.publicExecute()))
			.isPresent();
	}

	/**
	 * A function as the catalog holds it.
	 *
	 * @param body its source, {@code pg_proc.prosrc}
	 * @param securityDefiner whether it runs with its owner's privileges
	 * @param publicExecute whether every role may execute it
	 */
	private record InstalledFunction(String body, boolean securityDefiner, boolean publicExecute) {

	}

	/**
	 * The capture triggers a table lacks, or has in another definition than this
	 * version's.
	 * @return the operations (INSERT, UPDATE, DELETE, TRUNCATE) whose trigger is missing
	 * or differs
	 */
	static List<String> missingTriggers(JdbcOperations jdbc, AuditSchema schema, AuditedTable table) {
		List<String> missing = new ArrayList<>();
		for (CaptureTrigger trigger : CaptureTrigger.values()) {
			if (!triggerMatches(jdbc, schema, table, trigger)) {
				missing.add(trigger.name());
			}
		}
		return missing;
	}

	private static boolean triggerMatches(JdbcOperations jdbc, AuditSchema schema, AuditedTable table,
			CaptureTrigger trigger) {
		byte[] arguments = table.triggerArguments(trigger.rowLevel(table))
			.stream()
			.map((column) -> column + '\0')
			.collect(Collectors.joining())
			.getBytes(StandardCharsets.UTF_8);
		List<Boolean> matches = jdbc.query(FIND_TRIGGERS, (rs, row) -> rs.getBoolean(2),
				schema.captureFunction() + "()", trigger.type(table), trigger.oldTable(table), trigger.newTable(table),
				arguments, table.relation(), schema.triggerName(trigger.operation));
		return !matches.isEmpty() && matches.get(0);
	}

	/**
	 * The body of a function definition, as {@code pg_proc.prosrc} holds it: the text
	 * between its dollar-quote tags.
	 */
	static String body(String definition) {
		int open = definition.indexOf("AS $");
		int tagEnd = definition.indexOf('$', open + 4);
		String tag = definition.substring(open + 3, tagEnd + 1);
		int close = definition.lastIndexOf(tag);
		return definition.substring(tagEnd + 1, close);
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

	/**
	 * One change of the installation.
	 *
	 * @param description what it installs, for the log
	 * @param statements its statements, in order
	 * @param outsideTransaction the statements the installer runs instead, after its
	 * transaction (an index built concurrently), or none
	 */
	record Change(String description, List<String> statements, List<String> outsideTransaction) {

		Change(String description, List<String> statements) {
			this(description, statements, List.of());
		}

	}

	/**
	 * The four triggers of an audited table: statement-level ones with transition tables
	 * (a trigger with transition tables serves one event only) and TRUNCATE, which has
	 * none. A partitioned table's INSERT, UPDATE and DELETE triggers are row-level
	 * instead, without transition tables (PostgreSQL refuses them there): PostgreSQL
	 * clones row-level triggers onto every partition, present and future, so writes made
	 * directly on a partition are captured too.
	 */
	private enum CaptureTrigger {

		INSERT("insert", 4, null, "new_rows"), UPDATE("update", 16, "old_rows", "new_rows"),
		DELETE("delete", 8, "old_rows", null), TRUNCATE("truncate", 32, null, null);

		private final String operation;

		/** pg_trigger.tgtype: an AFTER, FOR EACH STATEMENT trigger of this operation. */
		private final int type;

		/** pg_trigger.tgtype's bit of a FOR EACH ROW trigger. */
		private static final int ROW = 1;

		private final @Nullable String oldTable;

		private final @Nullable String newTable;

		CaptureTrigger(String operation, int type, @Nullable String oldTable, @Nullable String newTable) {
			this.operation = operation;
			this.type = type;
			this.oldTable = oldTable;
			this.newTable = newTable;
		}

		boolean rowLevel(AuditedTable table) {
			return table.partitioned() && this != TRUNCATE;
		}

		int type(AuditedTable table) {
			return rowLevel(table) ? (this.type | ROW) : this.type;
		}

		@Nullable String oldTable(AuditedTable table) {
			return rowLevel(table) ? null : this.oldTable;
		}

		@Nullable String newTable(AuditedTable table) {
			return rowLevel(table) ? null : this.newTable;
		}

		Map<String, String> placeholders(AuditSchema schema, AuditedTable table) {
			Map<String, String> placeholders = new HashMap<>();
			placeholders.put("trigger_name", SqlIdentifier.quote(schema.triggerName(this.operation)));
			placeholders.put("operation", name());
			placeholders.put("table", table.relation());
			List<String> transitionTables = new ArrayList<>();
			String oldTable = oldTable(table);
			String newTable = newTable(table);
			if (oldTable != null) {
				transitionTables.add("OLD TABLE AS " + oldTable);
			}
			if (newTable != null) {
				transitionTables.add("NEW TABLE AS " + newTable);
			}
			placeholders.put("level", rowLevel(table) ? "ROW" : "STATEMENT");
			placeholders.put("referencing",
					transitionTables.isEmpty() ? "" : "REFERENCING " + String.join(" ", transitionTables));
			placeholders.put("arguments",
					table.triggerArguments(rowLevel(table))
						.stream()
						.map((column) -> "'" + column.replace("'", "''") + "'")
						.collect(Collectors.joining(", ")));
			return placeholders;
		}

	}

}
