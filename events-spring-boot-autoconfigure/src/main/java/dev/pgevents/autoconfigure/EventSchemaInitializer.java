package dev.pgevents.autoconfigure;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import javax.sql.DataSource;

import dev.pgevents.internal.capture.AuditSchema;
import dev.pgevents.internal.capture.AuditedTable;
import dev.pgevents.internal.capture.StartupFailure;
import dev.pgevents.internal.dispatch.SubscriberRegistry;

import org.springframework.beans.factory.InitializingBean;
import org.springframework.boot.jdbc.EmbeddedDatabaseConnection;
import org.springframework.boot.sql.init.DatabaseInitializationMode;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Checks, at startup, that every audited table exists and has a primary key, then
 * installs (or, with {@code events.schema.initialize=never}, expects) the audit schema.
 * Runs after Flyway, Liquibase and Boot's SQL scripts, and before the application's own
 * database users (JdbcTemplate, JPA), as a database initializer.
 */
final class EventSchemaInitializer implements InitializingBean {

	private final JdbcTemplate jdbc;

	private final DataSource dataSource;

	private final AuditSchema schema;

	private final SubscriberRegistry subscribers;

	private final EventsProperties properties;

	private final Map<String, AuditedTable> tables = new LinkedHashMap<>();

	EventSchemaInitializer(DataSource dataSource, AuditSchema schema, SubscriberRegistry subscribers,
			EventsProperties properties) {
		this.jdbc = new JdbcTemplate(dataSource);
		this.dataSource = dataSource;
		this.schema = schema;
		this.subscribers = subscribers;
		this.properties = properties;
	}

	@Override
	public void afterPropertiesSet() {
		for (String table : this.subscribers.tables()) {
			String namedBy = "named by the events of @EventSubscriber method "
					+ this.subscribers.describeSubscribersOf(table);
			AuditedTable found = find(table, namedBy);
			if (!found.name().equals(table)) {
				// one name per table, so that tables of one name in two schemas stay
				// apart
				throw new StartupFailure(
						"Table '" + table + "' " + namedBy + " has events named '" + found.name() + ".<op>'",
						"Name them '" + found.name() + ".<op>': events name the tables of the application's schema ("
								+ this.schema.applicationSchema() + ") without their schema, and others with it");
			}
			this.tables.put(table, found);
		}
		List<String> extra = this.properties.getAudit().getTables();
		for (int i = 0; i < extra.size(); i++) {
			String property = "events.audit.tables[" + i + "]";
			AuditedTable found = find(AuditSchema.validateTableName(property, extra.get(i)), "listed in " + property);
			this.tables.putIfAbsent(found.name(), found);
		}
		excludeColumns(this.properties.getAudit().getExcludeColumns());
		this.subscribers.resolve(this.tables.values());
		if (installs(this.properties.getSchema().getInitialize())) {
			this.schema.install(this.dataSource, auditedTables());
		}
		else {
			verifyInstalled();
		}
	}

	/**
	 * With the schema owned by migrations, check that they installed what this version
	 * needs: anything missing or outdated would make changes go uncaptured, silently.
	 */
	private void verifyInstalled() {
		String fix = "with your migrations (see docs/schema.md), or set events.schema.initialize=always";
		if (!this.schema.isInstalled(this.jdbc)) {
			throw new StartupFailure("The audit table " + this.schema.auditTable()
					+ " does not exist and events.schema.initialize is '" + mode() + "'",
					"Install the SQL from classpath:dev/pgevents/capture/ " + fix);
		}
		if (!this.subscribers.names().isEmpty() && !this.schema.isPendingFunctionInstalled(this.jdbc)) {
			throw new StartupFailure("The function " + this.schema.pendingFunction()
					+ " does not exist and events.schema.initialize is '" + mode() + "'; the subscribers need it",
					"Install pending-function.sql from classpath:dev/pgevents/capture/ " + fix);
		}
		List<String> outdated = this.schema.outdatedFunctions(this.jdbc);
		if (!outdated.isEmpty()) {
			throw new StartupFailure("The audit function" + ((outdated.size() > 1) ? "s " : " ")
					+ String.join(" and ", outdated) + ((outdated.size() > 1) ? " are" : " is")
					+ " missing or not this version's (installed by an earlier version, or rendered for another "
					+ "application schema than " + this.schema.applicationSchema()
					+ ") and events.schema.initialize is '" + mode()
					+ "': changes would not be captured or read as this version expects",
					"Install this version's capture-function.sql and pending-function.sql " + fix);
		}
		if (!this.schema.isInstanceTableInstalled(this.jdbc)) {
			throw new StartupFailure("The table " + this.schema.instanceTable()
					+ " does not exist and events.schema.initialize is '" + mode() + "'",
					"Install instance-table.sql from classpath:dev/pgevents/capture/ " + fix);
		}
		for (AuditedTable table : this.tables.values()) {
			List<String> missing = this.schema.missingTriggers(this.jdbc, table);
			if (!missing.isEmpty()) {
				throw new StartupFailure(
						"Table '" + table.name() + "' lacks its " + String.join(", ", missing) + " capture trigger"
								+ ((missing.size() > 1) ? "s" : "")
								+ " (or has another definition of it) and events.schema.initialize is '" + mode()
								+ "': its changes would not be delivered",
						"Install capture-trigger.sql for each operation of the table " + fix);
			}
		}
	}

	/**
	 * Apply {@code events.audit.exclude-columns}: a {@code column} entry to every audited
	 * table that has the column, a {@code table.column} entry to that table, which must
	 * be audited and have the column.
	 */
	private void excludeColumns(List<String> entries) {
		Map<String, List<String>> byTable = new LinkedHashMap<>();
		for (int i = 0; i < entries.size(); i++) {
			String property = "events.audit.exclude-columns[" + i + "]";
			String entry = entries.get(i).trim();
			int dot = entry.lastIndexOf('.');
			String column = entry.substring(dot + 1);
			if (column.isEmpty()) {
				throw new StartupFailure(property + " is '" + entry + "', which names no column",
						"Use 'column' for a column of every audited table, or 'table.column'");
			}
			if (dot < 0) {
				this.tables.values()
					.stream()
					.filter((table) -> table.columns().contains(column))
					.forEach((table) -> exclude(byTable, table, column, property));
				continue;
			}
			String tableName = entry.substring(0, dot);
			AuditedTable table = this.tables.get(tableName);
			if (table == null) {
				throw new StartupFailure(
						property + " is '" + entry + "', but table '" + tableName + "' is not audited (audited: "
								+ String.join(", ", this.tables.keySet()) + ")",
						"Name the table as its events do, or audit the table (events.audit.tables)");
			}
			if (!table.columns().contains(column)) {
				throw new StartupFailure(
						property + " is '" + entry + "', but table '" + tableName + "' has no column '" + column
								+ "' (its columns: " + String.join(", ", table.columns()) + ")",
						"Fix the column name (as the table spells it), or remove the entry");
			}
			exclude(byTable, table, column, property);
		}
		byTable
			.forEach((name, excluded) -> this.tables.computeIfPresent(name, (key, table) -> table.excluding(excluded)));
	}

	private static void exclude(Map<String, List<String>> byTable, AuditedTable table, String column, String property) {
		if (table.keyColumns().contains(column)) {
			throw new StartupFailure(
					property + " excludes '" + column + "', a primary-key column of table '" + table.name()
							+ "': events identify their row by its key",
					"Remove the entry, or name the table of the column you meant ('table.column')");
		}
		byTable.computeIfAbsent(table.name(), (name) -> new ArrayList<>()).add(column);
	}

	private String mode() {
		return this.properties.getSchema().getInitialize().name().toLowerCase(Locale.ROOT);
	}

	private boolean installs(DatabaseInitializationMode mode) {
		return mode == DatabaseInitializationMode.ALWAYS || (mode == DatabaseInitializationMode.EMBEDDED
				&& EmbeddedDatabaseConnection.isEmbedded(this.dataSource));
	}

	private AuditedTable find(String table, String namedBy) {
		AuditedTable found = this.schema.findTable(this.jdbc, table)
			.orElseThrow(() -> new StartupFailure(
					"Table '" + table + "' " + namedBy + " does not exist (or is not a table)"
							+ ((table.indexOf('.') < 0) ? " in the schemas of the database's search_path" : ""),
					"Create it before the application starts (for example with a Flyway migration), or fix the name"));
		if (found.keyColumns().isEmpty()) {
			throw new StartupFailure(
					"Table '" + table + "' " + namedBy + " has no primary key, and events identify rows by it",
					"Add one, e.g. ALTER TABLE " + found.relation() + " ADD PRIMARY KEY (id)");
		}
		return found;
	}

	List<AuditedTable> auditedTables() {
		return List.copyOf(this.tables.values());
	}

	boolean capturesAnything() {
		return !this.tables.isEmpty();
	}

}
