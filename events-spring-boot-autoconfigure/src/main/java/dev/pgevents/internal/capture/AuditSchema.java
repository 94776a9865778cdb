package dev.pgevents.internal.capture;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Array;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.zip.CRC32;

import javax.sql.DataSource;

import dev.pgevents.internal.support.StartupFailure;

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

	private static final String FIND_TABLE = """
			SELECT pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname) AS relation,
				n.nspname::text AS schema, c.relname::text AS name,
				array(SELECT a.attname::text
					FROM pg_catalog.pg_index i
					CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
					JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
					WHERE i.indrelid = c.oid AND i.indisprimary
					ORDER BY k.ord) AS key_columns,
				array(SELECT a.attname::text FROM pg_catalog.pg_attribute a
					WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
					ORDER BY a.attnum) AS columns,
				c.relkind = 'p' AS partitioned,
				(SELECT i.inhparent::regclass::text FROM pg_catalog.pg_inherits i WHERE i.inhrelid = c.oid
					AND c.relispartition) AS partition_of
			FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
			WHERE c.oid = pg_catalog.to_regclass(?) AND c.relkind IN ('r', 'p')
			""";

	private final String auditName;

	private final String auditTable;

	private final String deliveryTable;

	private final String subscriberTable;

	private final String instanceTable;

	private final String captureFunction;

	private final String pendingFunction;

	private final String pendingIndex;

	private final String dueIndex;

	private final String rowIndex;

	private final SqlIdentifier audit;

	private final String applicationSchema;

	private final List<String> trustedRoles;

	private final Map<String, String> names;

	private AuditSchema(SqlIdentifier audit, String applicationSchema, List<String> trustedRoles) {
		this.trustedRoles = List.copyOf(trustedRoles);
		this.applicationSchema = applicationSchema;
		this.auditName = audit.name();
		this.auditTable = audit.qualified(applicationSchema);
		this.deliveryTable = audit.withSuffix("_delivery").qualified(applicationSchema);
		this.subscriberTable = audit.withSuffix("_subscriber").qualified(applicationSchema);
		this.instanceTable = audit.withSuffix("_instance").qualified(applicationSchema);
		this.captureFunction = audit.withSuffix("_capture").qualified(applicationSchema);
		this.pendingFunction = audit.withSuffix("_pending").qualified(applicationSchema);
		this.pendingIndex = audit.withSuffix("_pending_idx").qualified(applicationSchema);
		this.dueIndex = audit.withSuffix("_delivery_due_idx").qualified(applicationSchema);
		this.rowIndex = audit.withSuffix("_delivery_row_idx").qualified(applicationSchema);
		this.audit = audit;
		this.names = Map.of("audit_table", this.auditTable, "audit_name", this.auditName, "delivery_table",
				this.deliveryTable, "subscriber_table", this.subscriberTable, "instance_table", this.instanceTable,
				"capture_function", this.captureFunction, "pending_function", this.pendingFunction, "channel",
				"'" + channel() + "'", "application_schema", "'" + applicationSchema.replace("'", "''") + "'",
				"trusted_roles",
				trustedRoles.stream()
					.map((role) -> "'" + role.replace("'", "''") + "'")
					.collect(Collectors.joining(", ", "ARRAY[", "]::pg_catalog.text[]")));
	}

	/**
	 * Resolve the audit table named by configuration: an unqualified name lives in the
	 * connection's current schema (the first existing schema of its search path), which
	 * is also the schema whose tables events name without a schema.
	 * @param jdbc operations on the application's database
	 * @param tableName the value of {@value #TABLE_NAME_PROPERTY}
	 * @return the schema's names
	 */
	public static AuditSchema resolve(JdbcOperations jdbc, String tableName) {
		return resolve(jdbc, tableName, List.of());
	}

	/**
	 * Resolve the audit table named by configuration, as
	 * {@link #resolve(JdbcOperations, String)} does, for a capture function that also
	 * trusts the given roles.
	 * @param jdbc operations on the application's database
	 * @param tableName the value of {@value #TABLE_NAME_PROPERTY}
	 * @param trustedRoles the value of {@code events.audit.trusted-roles}
	 * @return the schema's names
	 */
	public static AuditSchema resolve(JdbcOperations jdbc, String tableName, List<String> trustedRoles) {
		String applicationSchema = jdbc.queryForObject("SELECT current_schema()", String.class);
		if (applicationSchema == null) {
			throw new StartupFailure(
					"The database connection has no current schema: its search_path names no existing schema",
					"Fix the search_path (for example currentSchema=public in the JDBC URL), so that unqualified "
							+ "table names, in " + TABLE_NAME_PROPERTY + " and in event names, name tables of it");
		}
		return of(tableName, applicationSchema, trustedRoles);
	}

	/**
	 * The names of the audit objects for an application.
	 * @param tableName the value of {@value #TABLE_NAME_PROPERTY}
	 * @param applicationSchema the application's current schema
	 * @return the schema's names
	 */
	public static AuditSchema of(String tableName, String applicationSchema) {
		return of(tableName, applicationSchema, List.of());
	}

	/**
	 * The names of the audit objects for an application whose capture function also
	 * trusts the given roles.
	 * @param tableName the value of {@value #TABLE_NAME_PROPERTY}
	 * @param applicationSchema the application's current schema
	 * @param trustedRoles the value of {@code events.audit.trusted-roles}
	 * @return the schema's names
	 */
	public static AuditSchema of(String tableName, String applicationSchema, List<String> trustedRoles) {
		SqlIdentifier audit = SqlIdentifier.parse(TABLE_NAME_PROPERTY, tableName);
		if (audit.name().length() > MAX_NAME_LENGTH) {
			// PostgreSQL truncates names past 63 characters, and the longest companion
			// object (the ledger's due index) adds 17
			throw new InvalidConfigurationPropertyValueException(TABLE_NAME_PROPERTY, tableName,
					"Use a table name of at most " + MAX_NAME_LENGTH + " characters");
		}
		return new AuditSchema(audit, applicationSchema, trustedRoles);
	}

	/**
	 * Validate the name of a table to audit, taken from configuration.
	 * @param property the configuration key, named in the error
	 * @param value the table name, optionally schema-qualified
	 * @return the validated name
	 * @throws org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException
	 * when the value is not a lower-case SQL identifier
	 */
	public static String validateTableName(String property, String value) {
		try {
			return SqlIdentifier.parse(property, value).toString();
		}
		catch (InvalidConfigurationPropertyValueException ex) {
			// event names carry table names unquoted
			throw new InvalidConfigurationPropertyValueException(property, value, ex.getReason()
					+ ". A table whose name needs quoting (upper case, dashes) cannot be audited: rename it");
		}
	}

	/**
	 * The application's schema: the current schema of its connections, whose tables
	 * events name without a schema.
	 * @return the schema's name
	 */
	public String applicationSchema() {
		return this.applicationSchema;
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
	 * The running instances that dispatch after commit, and when each was last seen.
	 * @return the qualified, quoted table name
	 */
	public String instanceTable() {
		return this.instanceTable;
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
	 * Look up a table by name: an unqualified name in the application's schema, else on
	 * the connection's search path. The table found is named as its events are: without
	 * its schema when it is in the application's schema, with it otherwise, which may
	 * differ from how {@code name} spells it.
	 * @param jdbc operations on the application's database
	 * @param name a validated, unqualified or qualified table name
	 * @return the table, or empty when there is no such table; a table without a primary
	 * key has no key columns
	 * @throws StartupFailure when the table is a partition
	 */
	public Optional<AuditedTable> findTable(JdbcOperations jdbc, String name) {
		for (String lookup : lookups(name)) {
			Optional<AuditedTable> found = find(jdbc, name, lookup);
			if (found.isPresent()) {
				return found;
			}
		}
		return Optional.empty();
	}

	/**
	 * What to look a relation up by, in order: an unqualified name in the application's
	 * schema first, then on the search path.
	 */
	private List<String> lookups(String name) {
		return (name.indexOf('.') < 0) ? List.of(SqlIdentifier.quote(this.applicationSchema) + "." + name, name)
				: List.of(name);
	}

	private Optional<AuditedTable> find(JdbcOperations jdbc, String name, String lookup) {
		List<AuditedTable> found = jdbc.query(FIND_TABLE, (rs, row) -> {
			String parent = rs.getString("partition_of");
			if (parent != null) {
				throw new StartupFailure("Table '" + name + "' is a partition of " + parent
						+ ": the capture triggers of a partitioned table capture the writes made on its partitions, "
						+ "as events named after it", "Audit " + parent + " instead of its partition");
			}
			String schema = rs.getString("schema");
			String eventName = schema.equals(this.applicationSchema) ? rs.getString("name")
					: schema + "." + rs.getString("name");
			return new AuditedTable(eventName, rs.getString("relation"), names(rs.getArray("key_columns")),
					names(rs.getArray("columns")), List.of(), rs.getBoolean("partitioned"), false);
		}, lookup);
		return found.stream().findFirst();
	}

	/**
	 * What a relation that is not a table is, for errors: found by name as
	 * {@link #findTable} finds tables.
	 * @param jdbc operations on the application's database
	 * @param name a validated, unqualified or qualified name
	 * @return {@code "a view"}, {@code "a materialized view"}, {@code "a foreign table"}
	 * and so on, or empty when no relation has the name or it is a table
	 */
	public Optional<String> nonTableKind(JdbcOperations jdbc, String name) {
		for (String lookup : lookups(name)) {
			List<String> kinds = jdbc.queryForList(
					"SELECT c.relkind::text FROM pg_catalog.pg_class c WHERE c.oid = pg_catalog.to_regclass(?)",
					String.class, lookup);
			if (!kinds.isEmpty()) {
				return Optional.ofNullable(switch (kinds.get(0)) {
					case "v" -> "a view";
					case "m" -> "a materialized view";
					case "f" -> "a foreign table";
					case "S" -> "a sequence";
					case "i", "I" -> "an index";
					case "c" -> "a composite type";
					default -> null;
				});
			}
		}
		return Optional.empty();
	}

	private static List<String> names(Array array) throws SQLException {
		return Arrays.asList((String[]) array.getArray());
	}

	/**
	 * Whether the audit table exists.
	 * @param jdbc operations on the application's database
	 * @return whether the audit table exists
	 */
	public boolean isInstalled(JdbcOperations jdbc) {
		return Boolean.TRUE.equals(
				jdbc.queryForObject("SELECT pg_catalog.to_regclass(?) IS NOT NULL", Boolean.class, this.auditTable));
	}

	/**
	 * Whether the table of running instances exists.
	 * @param jdbc operations on the application's database
	 * @return whether {@link #instanceTable()} exists
	 */
	public boolean isInstanceTableInstalled(JdbcOperations jdbc) {
		return Boolean.TRUE.equals(
				jdbc.queryForObject("SELECT pg_catalog.to_regclass(?) IS NOT NULL", Boolean.class, this.instanceTable));
	}

	/**
	 * Whether the function the after-commit dispatch reads rows with exists.
	 * @param jdbc operations on the application's database
	 * @return whether {@link #pendingFunction()} exists
	 */
	public boolean isPendingFunctionInstalled(JdbcOperations jdbc) {
		return Boolean.TRUE
			.equals(jdbc.queryForObject("SELECT pg_catalog.to_regprocedure(? || '(uuid, bigint, integer)') IS NOT NULL",
					Boolean.class, this.pendingFunction));
	}

	/**
	 * The owner of the capture function when it does not trust the connection's login
	 * role: the application's transactions would then lose their identity, trace and
	 * scope.
	 * @param jdbc operations on the application's database
	 * @return the function's owner, or empty when the role is trusted or the function is
	 * missing
	 */
	public Optional<String> distrustingOwner(JdbcOperations jdbc) {
		List<String> owners = jdbc.queryForList("""
				SELECT pg_catalog.pg_get_userbyid(p.proowner) FROM pg_catalog.pg_proc p
				WHERE p.oid = pg_catalog.to_regprocedure(? || '()')
					AND NOT (session_user = pg_catalog.pg_get_userbyid(p.proowner)
						OR session_user = ANY (?::text[])
						OR pg_catalog.pg_has_role(session_user, p.proowner, 'MEMBER'))
				""", String.class, this.captureFunction, this.trustedRoles.toArray(String[]::new));
		return owners.stream().findFirst();
	}

	/**
	 * Bring the audit and ledger tables, their indexes, the functions and the triggers of
	 * {@code tables} to their definitions, changing only what differs, without disturbing
	 * the transactions that write the database meanwhile (see {@link SchemaInstaller}).
	 * @param dataSource the application's database
	 * @param tables the tables to audit
	 */
	public void install(DataSource dataSource, List<AuditedTable> tables) {
		new SchemaInstaller(this, dataSource).install(tables);
	}

	/**
	 * Every statement that installs the audit schema and the capture triggers of
	 * {@code tables}, in order, for migrations to run. Each can run again: relations are
	 * created if they do not exist, functions and triggers created or replaced.
	 * @param tables the tables to audit
	 * @return the statements, without terminating semicolons
	 */
	public List<String> statements(List<AuditedTable> tables) {
		return SchemaInstaller.statements(this, tables);
	}

	/**
	 * The statements of {@link #statements} that what is installed needs: those of each
	 * object that is missing or differs from its definition, in order; none when
	 * everything matches. Finding them reads the catalog only.
	 * @param jdbc operations on the database to compare with
	 * @param tables the tables to audit
	 * @return the statements, without terminating semicolons
	 */
	public List<String> differences(JdbcOperations jdbc, List<AuditedTable> tables) {
		return SchemaInstaller.changes(jdbc, this, tables)
			.stream()
			.flatMap((change) -> change.statements().stream())
			.toList();
	}

	/**
	 * What this version needs for the delivery in order of a table's rows that is
	 * missing: the ledger's row key and its index (installed by an earlier version), and
	 * the index of each ordered table's undispatched rows.
	 * @param jdbc operations on the application's database
	 * @param tables the audited tables
	 * @return the objects missing, quoted and schema-qualified
	 */
	public List<String> missingForOrder(JdbcOperations jdbc, List<AuditedTable> tables) {
		return SchemaInstaller.missingForOrder(jdbc, this, tables);
	}

	/**
	 * The capture triggers a table lacks (or has in another definition than this
	 * version's): its changes would not be captured as this version expects.
	 * @param jdbc operations on the application's database
	 * @param table an audited table
	 * @return the operations (INSERT, UPDATE, DELETE, TRUNCATE) whose trigger is missing
	 * or differs
	 */
	public List<String> missingTriggers(JdbcOperations jdbc, AuditedTable table) {
		return SchemaInstaller.missingTriggers(jdbc, this, table);
	}

	/**
	 * The capture function when it is missing, and each audit function installed in
	 * another definition than this version's: installed by an earlier version, or
	 * rendered for another application schema, it would not capture or read rows as this
	 * version expects.
	 * @param jdbc operations on the application's database
	 * @return the functions, quoted and schema-qualified, with their parameter types
	 */
	public List<String> outdatedFunctions(JdbcOperations jdbc) {
		return SchemaInstaller.outdatedFunctions(jdbc, this);
	}

	/**
	 * The index the audit table's pending rows are found by, quoted and schema-qualified.
	 * @return the index
	 */
	String pendingIndex() {
		return this.pendingIndex;
	}

	/**
	 * The index the ledger's due entries are found by, quoted and schema-qualified.
	 * @return the index
	 */
	String dueIndex() {
		return this.dueIndex;
	}

	/**
	 * The index the ledger's entries that hold back a row are found by, quoted and
	 * schema-qualified.
	 * @return the index
	 */
	String rowIndex() {
		return this.rowIndex;
	}

	/**
	 * The index of a table's undispatched rows by key (audit-order-index.sql), for a
	 * table whose events a subscriber takes in order.
	 * @param table the table
	 * @param qualified whether to quote and schema-qualify it (else the bare name, as
	 * {@code CREATE INDEX} takes it)
	 * @return the index
	 */
	String orderIndex(AuditedTable table, boolean qualified) {
		CRC32 crc = new CRC32();
		crc.update(table.name().getBytes(StandardCharsets.UTF_8));
		SqlIdentifier index = this.audit.withSuffix("_order_" + String.format("%08x", crc.getValue()));
		return qualified ? index.qualified(this.applicationSchema) : index.name();
	}

	/**
	 * The function that reads a committed transaction's rows with what holds back their
	 * ordered deliveries (ordered-pending-function.sql), rendered for the given tables
	 * and named after a hash of its text, so that each application that shares the audit
	 * table has its own: {@code (scope uuid, after_id bigint, page_size integer)}.
	 * @param tables the application's audited tables, some of them ordered
	 * @return the function's name, quoted and schema-qualified, and its definition
	 */
	public OrderedFunction orderedFunction(List<AuditedTable> tables) {
		RowKeys keys = new RowKeys(this, tables);
		String unnamed = render("ordered-pending-function",
				Map.of("in_flight", keys.inFlight("e.scope_id IS DISTINCT FROM r.scope_id"), "held", keys.held()));
		CRC32 crc = new CRC32();
		crc.update(unnamed.getBytes(StandardCharsets.UTF_8));
		String name = this.audit.withSuffix("_ordered_" + String.format("%08x", crc.getValue()))
			.qualified(this.applicationSchema);
		return new OrderedFunction(name, unnamed.replace("{{ordered_function}}", name));
	}

	/**
	 * The ordered read function of one application.
	 *
	 * @param name its name, quoted and schema-qualified
	 * @param definition the statement that creates it
	 */
	public record OrderedFunction(String name, String definition) {

		/**
		 * Its signature, as {@code to_regprocedure} takes it.
		 * @return the name with its parameter types
		 */
		String signature() {
			return this.name + "(uuid, bigint, integer)";
		}

	}

	/**
	 * The capture trigger function, quoted and schema-qualified.
	 * @return the function
	 */
	String captureFunction() {
		return this.captureFunction;
	}

	/**
	 * The name of one of a table's capture triggers.
	 * @param operation {@code insert}, {@code update} or {@code delete}
	 * @return the unquoted trigger name
	 */
	String triggerName(String operation) {
		return this.auditName + "_" + operation;
	}

	/**
	 * One of the SQL scripts shipped under {@code dev/pgevents/capture/}, with this
	 * schema's names in place of its placeholders.
	 * @param script the script's name, without {@code .sql}
	 * @param more placeholders of this script alone, and their values
	 * @return the statement
	 */
	String render(String script, Map<String, String> more) {
		String sql = read(SCRIPTS + script + ".sql");
		for (Map<String, String> names : List.of(more, this.names)) {
			for (Map.Entry<String, String> name : names.entrySet()) {
				sql = sql.replace("{{" + name.getKey() + "}}", name.getValue());
			}
		}
		return sql;
	}

	/**
	 * The text of every SQL script shipped under {@code dev/pgevents/capture/}, as they
	 * are before rendering: what a new version of this library changes.
	 * @return the scripts, concatenated in a fixed order
	 */
	public static String sources() {
		StringBuilder sources = new StringBuilder();
		for (String script : List.of("audit-table", "audit-pending-index", "delivery-table", "delivery-due-index",
				"delivery-row-key", "delivery-row-index", "audit-order-index", "subscriber-table", "instance-table",
				"capture-function", "capture-function-grant", "pending-function", "ordered-pending-function",
				"audit-causation", "capture-trigger")) {
			sources.append(read(SCRIPTS + script + ".sql"));
		}
		return sources.toString();
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
