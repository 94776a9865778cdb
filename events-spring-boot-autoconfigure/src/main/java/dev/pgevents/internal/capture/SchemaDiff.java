package dev.pgevents.internal.capture;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.pgevents.internal.support.StartupFailure;

import org.springframework.jdbc.core.JdbcOperations;

/**
 * What is installed compared with what this version wants: the objects of the audit
 * schema and the capture triggers that are missing or differ from their definitions.
 * Catalog reads only: finding nothing to change takes no lock.
 */
public final class SchemaDiff {

	/** The application schema that an installed capture function names tables by. */
	private static final Pattern INSTALLED_APPLICATION_SCHEMA = Pattern
		.compile("WHEN TG_TABLE_SCHEMA OPERATOR\\(pg_catalog\\.=\\) '((?:[^']|'')*)' THEN");

	private final AuditSchema schema;

	private final SchemaCatalog catalog;

	private final SchemaStatements statements;

	/**
	 * Compare the schema installed in a database with this version's.
	 * @param jdbc operations on the database
	 * @param schema the audit schema's names
	 */
	public SchemaDiff(JdbcOperations jdbc, AuditSchema schema) {
		this.schema = schema;
		this.catalog = new SchemaCatalog(jdbc, schema);
		this.statements = new SchemaStatements(schema);
	}

	/**
	 * The statements of {@link SchemaStatements#all} that what is installed needs: those
	 * of each object that is missing or differs from its definition, in order; none when
	 * everything matches.
	 * @param tables the tables to audit
	 * @return the statements, without terminating semicolons
	 */
	public List<String> differences(List<AuditedTable> tables) {
		return changes(tables).stream().flatMap((change) -> change.statements().stream()).toList();
	}

	/**
	 * What the installation changes: one entry per object (or per table's triggers) that
	 * is missing or differs from its definition, in the order of installation.
	 * @param tables the tables to audit
	 * @return the changes
	 * @throws StartupFailure when the capture function was installed for another
	 * application schema
	 */
	List<Change> changes(List<AuditedTable> tables) {
		List<Change> changes = new ArrayList<>();
		this.statements.relations().forEach((script, relation) -> {
			if (script.equals("audit-pending-index") && this.catalog.exists(this.schema.auditTable())
					&& !this.catalog.hasColumn(this.schema.auditTable(), "caused_by")) {
				changes.add(new Change(this.schema.auditTable() + ".caused_by", List.of(this.statements.causation())));
			}
			if (script.equals("delivery-row-index") && this.catalog.exists(this.schema.deliveryTable())
					&& !this.catalog.hasColumn(this.schema.deliveryTable(), "row_key")) {
				changes.add(new Change(this.schema.deliveryTable() + ".row_key", List.of(this.statements.rowKey())));
			}
			if (!this.catalog.exists(relation)) {
				changes.add(new Change(relation, List.of(this.schema.render(script, Map.of()))));
			}
		});
		String capture = this.schema.render("capture-function", Map.of());
		Optional<SchemaCatalog.InstalledFunction> installedCapture = this.catalog
			.function(this.schema.captureFunction() + "()");
		if (!matches(installedCapture, capture, true)) {
			installedCapture.ifPresent(this::verifySameApplicationSchema);
			changes.add(new Change(this.schema.captureFunction() + "()",
					List.of(capture, this.schema.render("capture-function-grant", Map.of()))));
		}
		String pending = this.schema.render("pending-function", Map.of());
		if (!matches(this.catalog.function(this.schema.pendingFunction() + "(uuid, bigint, integer)"), pending,
				false)) {
			changes.add(new Change(this.schema.pendingFunction() + "()", List.of(pending)));
		}
		String notice = this.schema.render("notice-function", Map.of());
		if (!matches(this.catalog.function(this.schema.noticeFunction() + "()"), notice, false)
				|| !this.catalog.hasNoticeTrigger()) {
			changes.add(new Change(this.schema.noticeFunction() + "() and its trigger on " + this.schema.auditTable(),
					List.of(notice, this.schema.render("notice-trigger", Map.of()))));
		}
		for (AuditedTable table : tables) {
			List<String> triggers = new ArrayList<>();
			List<String> statements = new ArrayList<>();
			for (CaptureTrigger trigger : CaptureTrigger.values()) {
				if (!this.catalog.hasTrigger(table, trigger)) {
					triggers.add(trigger.name());
					statements.add(this.statements.trigger(trigger, table));
				}
			}
			if (!triggers.isEmpty()) {
				changes.add(new Change("the " + String.join("/", triggers) + " capture triggers of " + table.relation(),
						statements));
			}
		}
		AuditSchema.OrderedFunction ordered = this.schema.orderedFunction(tables);
		if (tables.stream().anyMatch(AuditedTable::ordered) && this.catalog.function(ordered.signature()).isEmpty()) {
			changes.add(new Change(ordered.signature(), List.of(ordered.definition())));
		}
		for (AuditedTable table : tables) {
			Boolean valid = this.catalog.indexValid(this.schema.orderIndex(table, true));
			if (table.ordered() && !Boolean.TRUE.equals(valid)) {
				changes.add(new Change(this.schema.orderIndex(table, true),
						this.statements.orderIndex(table, valid != null, false),
						this.statements.orderIndex(table, valid != null, true)));
			}
		}
		return changes;
	}

	/**
	 * What this version needs for the delivery in order of a table's rows (and for
	 * causation) that is missing: the audit table's and the ledger's columns and indexes
	 * that an earlier version did not install, and the index of each ordered table's
	 * undispatched rows.
	 * @param tables the audited tables
	 * @return the objects missing, quoted and schema-qualified
	 */
	public List<String> missingForOrder(List<AuditedTable> tables) {
		List<String> missing = new ArrayList<>();
		if (!this.catalog.hasColumn(this.schema.auditTable(), "caused_by")) {
			missing.add(this.schema.auditTable() + ".caused_by");
		}
		if (!this.catalog.hasColumn(this.schema.deliveryTable(), "row_key")) {
			missing.add(this.schema.deliveryTable() + ".row_key");
		}
		if (!this.catalog.exists(this.schema.rowIndex())) {
			missing.add(this.schema.rowIndex());
		}
		tables.stream()
			.filter(AuditedTable::ordered)
			.map((table) -> this.schema.orderIndex(table, true))
			.filter((index) -> !Boolean.TRUE.equals(this.catalog.indexValid(index)))
			.forEach(missing::add);
		AuditSchema.OrderedFunction ordered = this.schema.orderedFunction(tables);
		if (tables.stream().anyMatch(AuditedTable::ordered) && this.catalog.function(ordered.signature()).isEmpty()) {
			missing.add(ordered.signature());
		}
		return missing;
	}

	/**
	 * The capture triggers a table lacks (or has in another definition than this
	 * version's): its changes would not be captured as this version expects.
	 * @param table an audited table
	 * @return the operations (INSERT, UPDATE, DELETE, TRUNCATE) whose trigger is missing
	 * or differs
	 */
	public List<String> missingTriggers(AuditedTable table) {
		List<String> missing = new ArrayList<>();
		for (CaptureTrigger trigger : CaptureTrigger.values()) {
			if (!this.catalog.hasTrigger(table, trigger)) {
				missing.add(trigger.name());
			}
		}
		return missing;
	}

	/**
	 * The capture function when it is missing, and each audit function installed in
	 * another definition than this version's: installed by an earlier version, or
	 * rendered for another application schema, it would not capture or read rows as this
	 * version expects.
	 * @return the functions, quoted and schema-qualified, with their parameter types
	 */
	public List<String> outdatedFunctions() {
		List<String> outdated = new ArrayList<>();
		if (!matches(this.catalog.function(this.schema.captureFunction() + "()"),
				this.schema.render("capture-function", Map.of()), true)) {
			outdated.add(this.schema.captureFunction() + "()");
		}
		String pending = this.schema.pendingFunction() + "(uuid, bigint, integer)";
		Optional<SchemaCatalog.InstalledFunction> installedPending = this.catalog.function(pending);
		if (installedPending.isPresent()
				&& !matches(installedPending, this.schema.render("pending-function", Map.of()), false)) {
			outdated.add(pending);
		}
		return outdated;
	}

	/**
	 * Refuse to replace a capture function installed for another application schema: the
	 * applications that share the audit table would see the events of their tables
	 * renamed (a table is named without its schema in its own application schema only).
	 */
	private void verifySameApplicationSchema(SchemaCatalog.InstalledFunction capture) {
		Matcher installed = INSTALLED_APPLICATION_SCHEMA.matcher(capture.body());
		if (installed.find() && !installed.group(1).replace("''", "'").equals(this.schema.applicationSchema())) {
			String other = installed.group(1).replace("''", "'");
			String function = this.schema.captureFunction();
			throw new StartupFailure(
					"The capture function " + function + "() was installed by an application whose schema is '" + other
							+ "', and this one's is '" + this.schema.applicationSchema()
							+ "' (its connections' current schema): the applications that " + "share "
							+ this.schema.auditTable() + " would see the events of their tables renamed",
					"Give the applications that share it one current schema (search_path, or currentSchema in the "
							+ "JDBC URL), or separate audit tables (events.audit.table-name). If the schema changed "
							+ "for good, drop the function (DROP FUNCTION " + function
							+ "() CASCADE, which drops its triggers too) and restart the applications");
		}
	}

	private static boolean matches(Optional<SchemaCatalog.InstalledFunction> installed, String definition,
			boolean securityDefiner) {
		// a security definer must not be executable by everyone (see
		// capture-function-grant.sql)
		return installed
			.filter((function) -> body(definition).equals(function.body())
					&& function.securityDefiner() == securityDefiner && !(securityDefiner && function.publicExecute()))
			.isPresent();
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

}
