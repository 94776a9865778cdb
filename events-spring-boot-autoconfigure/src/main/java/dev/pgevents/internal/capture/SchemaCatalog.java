package dev.pgevents.internal.capture;

import java.sql.Array;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

import org.jspecify.annotations.Nullable;

import dev.pgevents.internal.support.StartupFailure;

import org.springframework.jdbc.core.JdbcOperations;

/**
 * What the database's catalog says about the audited tables and the audit schema's
 * objects. Reads only, which take no table locks.
 */
public final class SchemaCatalog {

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

	private final JdbcOperations jdbc;

	private final AuditSchema schema;

	/**
	 * The catalog of the application's database.
	 * @param jdbc operations on it
	 * @param schema the audit schema's names
	 */
	public SchemaCatalog(JdbcOperations jdbc, AuditSchema schema) {
		this.jdbc = jdbc;
		this.schema = schema;
	}

	/**
	 * Look up a table by name: an unqualified name in the application's schema, else on
	 * the connection's search path. The table found is named as its events are: without
	 * its schema when it is in the application's schema, with it otherwise, which may
	 * differ from how {@code name} spells it.
	 * @param name a validated, unqualified or qualified table name
	 * @return the table, or empty when there is no such table; a table without a primary
	 * key has no key columns
	 * @throws StartupFailure when the table is a partition
	 */
	public Optional<AuditedTable> findTable(String name) {
		for (String lookup : lookups(name)) {
			Optional<AuditedTable> found = find(name, lookup);
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
		return (name.indexOf('.') < 0)
				? List.of(SqlIdentifier.quote(this.schema.applicationSchema()) + "." + name, name) : List.of(name);
	}

	private Optional<AuditedTable> find(String name, String lookup) {
		List<AuditedTable> found = this.jdbc.query(FIND_TABLE, (rs, row) -> {
			String parent = rs.getString("partition_of");
			if (parent != null) {
				throw new StartupFailure("Table '" + name + "' is a partition of " + parent
						+ ": the capture triggers of a partitioned table capture the writes made on its partitions, "
						+ "as events named after it", "Audit " + parent + " instead of its partition");
			}
			String schema = rs.getString("schema");
			String eventName = schema.equals(this.schema.applicationSchema()) ? rs.getString("name")
					: schema + "." + rs.getString("name");
			return new AuditedTable(eventName, rs.getString("relation"), names(rs.getArray("key_columns")),
					names(rs.getArray("columns")), List.of(), rs.getBoolean("partitioned"), false);
		}, lookup);
		return found.stream().findFirst();
	}

	/**
	 * What a relation that is not a table is, for errors: found by name as
	 * {@link #findTable} finds tables.
	 * @param name a validated, unqualified or qualified name
	 * @return {@code "a view"}, {@code "a materialized view"}, {@code "a foreign table"}
	 * and so on, or empty when no relation has the name or it is a table
	 */
	public Optional<String> nonTableKind(String name) {
		for (String lookup : lookups(name)) {
			List<String> kinds = this.jdbc.queryForList(
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
	 * @return whether the audit table exists
	 */
	public boolean isInstalled() {
		return exists(this.schema.auditTable());
	}

	/**
	 * Whether the table of running instances exists.
	 * @return whether {@link AuditSchema#instanceTable()} exists
	 */
	public boolean isInstanceTableInstalled() {
		return exists(this.schema.instanceTable());
	}

	/**
	 * Whether the function the after-commit dispatch reads rows with exists.
	 * @return whether {@link AuditSchema#pendingFunction()} exists
	 */
	public boolean isPendingFunctionInstalled() {
		return function(this.schema.pendingFunction() + "(uuid, bigint, integer)").isPresent();
	}

	/**
	 * Whether the audit table has the trigger that sends a transaction's rows back with
	 * its commit (notice-trigger.sql), enabled and calling this schema's function.
	 * @return whether it does
	 */
	boolean hasNoticeTrigger() {
		return Boolean.TRUE.equals(this.jdbc.queryForObject("""
				SELECT EXISTS (SELECT FROM pg_catalog.pg_trigger
					WHERE tgrelid = pg_catalog.to_regclass(?) AND tgname = 'pgevents_notice'
					AND tgfoid = pg_catalog.to_regprocedure(?) AND tgenabled = 'O')
				""", Boolean.class, this.schema.auditTable(), this.schema.noticeFunction() + "()"));
	}

	/**
	 * The owner of the capture function when it does not trust the connection's login
	 * role: the application's transactions would then lose their identity, trace and
	 * scope.
	 * @return the function's owner, or empty when the role is trusted or the function is
	 * missing
	 */
	public Optional<String> distrustingOwner() {
		List<String> owners = this.jdbc.queryForList("""
				SELECT pg_catalog.pg_get_userbyid(p.proowner) FROM pg_catalog.pg_proc p
				WHERE p.oid = pg_catalog.to_regprocedure(? || '()')
					AND NOT (session_user = pg_catalog.pg_get_userbyid(p.proowner)
						OR session_user = ANY (?::text[])
						OR pg_catalog.pg_has_role(session_user, p.proowner, 'MEMBER'))
				""", String.class, this.schema.captureFunction(), this.schema.trustedRoles().toArray(String[]::new));
		return owners.stream().findFirst();
	}

	boolean exists(String relation) {
		return Boolean.TRUE
			.equals(this.jdbc.queryForObject("SELECT pg_catalog.to_regclass(?) IS NOT NULL", Boolean.class, relation));
	}

	boolean hasColumn(String table, String column) {
		return Boolean.TRUE.equals(this.jdbc.queryForObject(
				"SELECT EXISTS (SELECT FROM pg_catalog.pg_attribute a "
						+ "WHERE a.attrelid = pg_catalog.to_regclass(?) AND a.attname = ? AND NOT a.attisdropped)",
				Boolean.class, table, column));
	}

	/**
	 * Whether an index is valid: {@code null} when there is none, {@code false} when a
	 * concurrent build of it failed.
	 */
	@Nullable Boolean indexValid(String index) {
		List<Boolean> valid = this.jdbc.queryForList(
				"SELECT i.indisvalid FROM pg_catalog.pg_index i WHERE i.indexrelid = pg_catalog.to_regclass(?)",
				Boolean.class, index);
		return valid.isEmpty() ? null : valid.get(0);
	}

	/**
	 * A function as installed.
	 * @param signature its name and parameter types, as {@code to_regprocedure} takes
	 * them
	 * @return the function, or empty when there is none
	 */
	Optional<InstalledFunction> function(String signature) {
		return this.jdbc
			.query(FIND_FUNCTION,
					(rs, row) -> new InstalledFunction(rs.getString(1), rs.getBoolean(2), rs.getBoolean(3)), signature)
			.stream()
			.findFirst();
	}

	/**
	 * Whether a table has one of its capture triggers, in this version's definition.
	 * @param table the audited table
	 * @param trigger the trigger
	 * @return whether it is there, calls the capture function with the table's arguments
	 * and is enabled
	 */
	boolean hasTrigger(AuditedTable table, CaptureTrigger trigger) {
		List<Boolean> matches = this.jdbc.query(FIND_TRIGGERS, (rs, row) -> rs.getBoolean(2),
				this.schema.captureFunction() + "()", trigger.type(table), trigger.oldTable(table),
				trigger.newTable(table), trigger.catalogArguments(table), table.relation(), trigger.name(this.schema));
		return !matches.isEmpty() && matches.get(0);
	}

	/**
	 * A function as the catalog holds it.
	 *
	 * @param body its source, {@code pg_proc.prosrc}
	 * @param securityDefiner whether it runs with its owner's privileges
	 * @param publicExecute whether every role may execute it
	 */
	record InstalledFunction(String body, boolean securityDefiner, boolean publicExecute) {

	}

}
