package dev.pgevents.capture;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Array;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.core.io.ClassPathResource;
import org.springframework.jdbc.core.JdbcOperations;
import org.springframework.util.StreamUtils;

/**
 * The names of the audit objects in one database, and the SQL that creates them. The SQL
 * ships as classpath resources under {@code dev/pgevents/capture/}, one statement per
 * file, for teams that install it with their own migrations.
 */
public final class AuditSchema {

	/** Key of the table-name property, named in errors. */
	public static final String TABLE_NAME_PROPERTY = "events.audit.table-name";

	private static final int MAX_NAME_LENGTH = 46;

	private static final String SCRIPTS = "dev/pgevents/capture/";

	private static final long INSTALL_LOCK = 0x7067_6576_656e_7473L; // "pgevents"

	private static final String FIND_TABLE = """
			SELECT c.oid::regclass::text AS relation,
				array(SELECT a.attname::text
					FROM pg_catalog.pg_index i
					CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
					JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
					WHERE i.indrelid = c.oid AND i.indisprimary
					ORDER BY k.ord) AS key_columns
			FROM pg_catalog.pg_class c
			WHERE c.oid = pg_catalog.to_regclass(?) AND c.relkind IN ('r', 'p')
			""";

	private final String auditName;

	private final String auditTable;

	private final String deliveryTable;

	private final String subscriberTable;

	private final String captureFunction;

	private final String pendingFunction;

	private AuditSchema(SqlIdentifier audit, String defaultSchema) {
		this.auditName = audit.name();
		this.auditTable = audit.qualified(defaultSchema);
		this.deliveryTable = audit.withSuffix("_delivery").qualified(defaultSchema);
		this.subscriberTable = audit.withSuffix("_subscriber").qualified(defaultSchema);
		this.captureFunction = audit.withSuffix("_capture").qualified(defaultSchema);
		this.pendingFunction = audit.withSuffix("_pending").qualified(defaultSchema);
	}

	/**
	 * Resolve the audit table named by configuration: an unqualified name lives in the
	 * first schema of the connection's search path.
	 * @param jdbc operations on the application's database
	 * @param tableName the value of {@value #TABLE_NAME_PROPERTY}
	 * @return the schema's names
	 */
	public static AuditSchema resolve(JdbcOperations jdbc, String tableName) {
		SqlIdentifier audit = SqlIdentifier.parse(TABLE_NAME_PROPERTY, tableName);
		if (audit.name().length() > MAX_NAME_LENGTH) {
			// PostgreSQL truncates names past 63 characters, and the longest companion
			// object (the ledger's due index) adds 17
			throw new InvalidConfigurationPropertyValueException(TABLE_NAME_PROPERTY, tableName,
					"Use a table name of at most " + MAX_NAME_LENGTH + " characters");
		}
		String defaultSchema = (audit.schema() != null) ? audit.schema()
				: jdbc.queryForObject("SELECT current_schema()", String.class);
		if (defaultSchema == null) {
			throw new IllegalStateException("The database connection has no current schema (the search_path names "
					+ "no existing schema): qualify " + TABLE_NAME_PROPERTY + " with a schema, e.g. 'public."
					+ audit.name() + "'");
		}
		return new AuditSchema(audit, defaultSchema);
	}

	/**
	 * Validate a table name taken from configuration.
	 * @param property the configuration key, named in the error
	 * @param value the table name, optionally schema-qualified
	 * @return the validated name
	 * @throws org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException
	 * when the value is not a lower-case SQL identifier
	 */
	public static String validateTableName(String property, String value) {
		return SqlIdentifier.parse(property, value).toString();
	}

	/**
	 * The audit table, quoted and schema-qualified.
	 * @return the audit table
	 */
	public String auditTable() {
		return this.auditTable;
	}

	/**
	 * The delivery ledger table, quoted and schema-qualified.
	 * @return the ledger table
	 */
	public String deliveryTable() {
		return this.deliveryTable;
	}

	/**
	 * The subscriber registry table, quoted and schema-qualified.
	 * @return the subscriber table
	 */
	public String subscriberTable() {
		return this.subscriberTable;
	}

	/**
	 * The function that returns a page of one transaction's undispatched rows, quoted and
	 * schema-qualified: {@code (scope uuid, after_id bigint, page_size integer)}.
	 * @return the function
	 */
	public String pendingFunction() {
		return this.pendingFunction;
	}

	/**
	 * The channel on which the capture trigger notifies the relays of rows that no local
	 * dispatcher handles.
	 * @return the channel name, a lower-case identifier
	 */
	public String channel() {
		return this.auditName;
	}

	/**
	 * The statement that subscribes a connection to {@link #channel()}.
	 * @return {@code LISTEN "<channel>"}
	 */
	public String listenStatement() {
		return "LISTEN " + SqlIdentifier.quote(channel());
	}

	/**
	 * Look up a table by name on the search path.
	 * @param jdbc operations on the application's database
	 * @param name a validated, unqualified or qualified table name
	 * @return the table, or empty when there is no such table; a table without a primary
	 * key has no key columns
	 */
	public Optional<AuditedTable> findTable(JdbcOperations jdbc, String name) {
		List<AuditedTable> found = jdbc.query(FIND_TABLE,
				(rs, row) -> new AuditedTable(name, rs.getString("relation"), keyColumns(rs.getArray("key_columns"))),
				name);
		return found.stream().findFirst();
	}

	private static List<String> keyColumns(Array array) throws java.sql.SQLException {
		return Arrays.asList((String[]) array.getArray());
	}

	/**
	 * Whether the audit table exists.
	 * @param jdbc operations on the application's database
	 * @return whether the audit table exists
	 */
	public boolean isInstalled(JdbcOperations jdbc) {
		return Boolean.TRUE.equals(jdbc.queryForObject("SELECT pg_catalog.to_regclass(?) IS NOT NULL", Boolean.class,
				this.auditTable));
	}

	/**
	 * Whether the function the after-commit dispatch reads rows with exists.
	 * @param jdbc operations on the application's database
	 * @return whether {@link #pendingFunction()} exists
	 */
	public boolean isPendingFunctionInstalled(JdbcOperations jdbc) {
		return Boolean.TRUE.equals(jdbc.queryForObject(
				"SELECT pg_catalog.to_regprocedure(? || '(uuid, bigint, integer)') IS NOT NULL", Boolean.class,
				this.pendingFunction));
	}

	/**
	 * Create the audit and ledger tables, their indexes, the capture function and the
	 * triggers of {@code tables}, if they are not there already. Run it inside one
	 * transaction: a transaction-scoped advisory lock makes instances that start together
	 * take turns.
	 * @param jdbc operations bound to a transaction on the application's database
	 * @param tables the tables to audit
	 */
	public void install(JdbcOperations jdbc, List<AuditedTable> tables) {
		jdbc.query("SELECT pg_catalog.pg_advisory_xact_lock(?)", (rs) -> null, INSTALL_LOCK);
		Map<String, String> names = Map.of("audit_table", this.auditTable, "audit_name", this.auditName,
				"delivery_table", this.deliveryTable, "subscriber_table", this.subscriberTable, "capture_function",
				this.captureFunction, "pending_function", this.pendingFunction, "channel", "'" + channel() + "'");
		for (String script : List.of("audit-table", "audit-pending-index", "delivery-table",
				"delivery-due-index", "subscriber-table", "capture-function", "pending-function")) {
			jdbc.execute(render(script, names));
		}
		for (AuditedTable table : tables) {
			String keyColumns = table.keyColumns()
				.stream()
				.map((column) -> "'" + column.replace("'", "''") + "'")
				.collect(Collectors.joining(", "));
			for (String[] trigger : TRIGGERS) {
				jdbc.execute(render("capture-trigger",
						Map.of("trigger_name", SqlIdentifier.quote(this.auditName + "_" + trigger[0]), "operation",
								trigger[1], "table", table.relation(), "transition_tables", trigger[2],
								"capture_function", this.captureFunction, "key_columns", keyColumns)));
			}
		}
	}

	private static final String[][] TRIGGERS = { { "insert", "INSERT", "NEW TABLE AS new_rows" },
			{ "update", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows" },
			{ "delete", "DELETE", "OLD TABLE AS old_rows" } };

	private static String render(String script, Map<String, String> names) {
		String sql = read(SCRIPTS + script + ".sql");
		for (Map.Entry<String, String> name : names.entrySet()) {
			sql = sql.replace("${" + name.getKey() + "}", name.getValue());
		}
		return sql;
	}

	private static String read(String path) {
		try {
			return StreamUtils.copyToString(new ClassPathResource(path).getInputStream(), StandardCharsets.UTF_8);
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Cannot read " + path, ex);
		}
	}

}
