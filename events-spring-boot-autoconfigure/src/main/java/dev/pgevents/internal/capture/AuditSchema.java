package dev.pgevents.internal.capture;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.zip.CRC32;

import dev.pgevents.internal.support.StartupFailure;

import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.jdbc.core.JdbcOperations;

/**
 * The names of the audit objects in one database, and the shipped SQL scripts rendered
 * with them. The SQL ships as classpath resources under {@code dev/pgevents/capture/},
 * one statement per file, for teams that install it with their own migrations. The
 * statements in order are {@link SchemaStatements}'; what the catalog holds
 * {@link SchemaCatalog}'s; what differs {@link SchemaDiff}'s; the installation
 * {@link SchemaInstaller}'s.
 */
public final class AuditSchema {

	/** Key of the table-name property, named in errors. */
	public static final String TABLE_NAME_PROPERTY = "events.audit.table-name";

	private static final int MAX_NAME_LENGTH = 46;

	private final String auditName;

	private final String auditTable;

	private final String deliveryTable;

	private final String subscriberTable;

	private final String instanceTable;

	private final String captureFunction;

	private final String pendingFunction;

	private final String noticeFunction;

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
		this.noticeFunction = audit.withSuffix("_notice").qualified(applicationSchema);
		this.pendingIndex = audit.withSuffix("_pending_idx").qualified(applicationSchema);
		this.dueIndex = audit.withSuffix("_delivery_due_idx").qualified(applicationSchema);
		this.rowIndex = audit.withSuffix("_delivery_row_idx").qualified(applicationSchema);
		this.audit = audit;
		this.names = Map.ofEntries(Map.entry("audit_table", this.auditTable),
				Map.entry("audit_table_literal", SqlIdentifier.literal(this.auditTable)),
				Map.entry("audit_name", this.auditName), Map.entry("delivery_table", this.deliveryTable),
				Map.entry("subscriber_table", this.subscriberTable), Map.entry("instance_table", this.instanceTable),
				Map.entry("capture_function", this.captureFunction),
				Map.entry("pending_function", this.pendingFunction), Map.entry("notice_function", this.noticeFunction),
				Map.entry("channel", SqlIdentifier.literal(channel())),
				Map.entry("application_schema", SqlIdentifier.literal(applicationSchema)),
				Map.entry("trusted_roles",
						trustedRoles.stream()
							.map(SqlIdentifier::literal)
							.collect(Collectors.joining(", ", "ARRAY[", "]::pg_catalog.text[]"))));
	}

	/**
	 * Resolve the audit table named by configuration: an unqualified name lives in the
	 * connection's current schema (the first existing schema of its search path), which
	 * is also the schema whose tables events name without a schema.
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
	 * The function of the trigger that sends a transaction's rows back with its commit,
	 * quoted and schema-qualified.
	 * @return the function
	 */
	String noticeFunction() {
		return this.noticeFunction;
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
	 * The roles whose session settings the capture function trusts, besides its owner and
	 * the owner's members.
	 * @return the roles of {@code events.audit.trusted-roles}
	 */
	List<String> trustedRoles() {
		return this.trustedRoles;
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
		String sql = CaptureScripts.read(script);
		for (Map<String, String> names : List.of(more, this.names)) {
			for (Map.Entry<String, String> name : names.entrySet()) {
				sql = sql.replace("{{" + name.getKey() + "}}", name.getValue());
			}
		}
		return sql;
	}

}
