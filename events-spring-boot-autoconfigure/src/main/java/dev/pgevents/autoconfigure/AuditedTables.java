package dev.pgevents.autoconfigure;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.pgevents.internal.capture.AuditSchema;
import dev.pgevents.internal.capture.SchemaCatalog;
import dev.pgevents.internal.capture.AuditedTable;
import dev.pgevents.internal.support.StartupFailure;
import dev.pgevents.internal.dispatch.SubscriberRegistry;

import org.springframework.jdbc.core.JdbcOperations;

/**
 * The application's audited tables: those its subscribers name and those listed in
 * {@code events.audit.tables}, looked up in the database, checked, and with the columns
 * of {@code events.audit.exclude-columns} left out.
 */
final class AuditedTables {

	private final JdbcOperations jdbc;

	private final AuditSchema schema;

	private final SubscriberRegistry subscribers;

	private final EventsProperties.Audit properties;

	private final Map<String, AuditedTable> tables = new LinkedHashMap<>();

	private AuditedTables(JdbcOperations jdbc, AuditSchema schema, SubscriberRegistry subscribers,
			EventsProperties.Audit properties) {
		this.jdbc = jdbc;
		this.schema = schema;
		this.subscribers = subscribers;
		this.properties = properties;
	}

	/**
	 * Find the application's audited tables.
	 * @param jdbc operations on the application's database
	 * @param schema the audit schema
	 * @param subscribers the subscribers, whose events name tables
	 * @param properties {@code events.audit}
	 * @return the tables, in the order first named
	 * @throws StartupFailure when a table is missing, has no primary key, is named
	 * otherwise than its events name it, or an excluded column is wrong
	 */
	static List<AuditedTable> resolve(JdbcOperations jdbc, AuditSchema schema, SubscriberRegistry subscribers,
			EventsProperties.Audit properties) {
		AuditedTables tables = new AuditedTables(jdbc, schema, subscribers, properties);
		tables.collect();
		return List.copyOf(tables.tables.values());
	}

	private void collect() {
		for (String table : this.subscribers.tables()) {
			String namedBy = "named by the events of @EventSubscriber method "
					+ this.subscribers.describeSubscribersOf(table);
			AuditedTable found = find(table, namedBy);
			if (!found.name().equals(table)) {
				// one name per table: tables of one name in two schemas stay apart
				throw new StartupFailure(
						"Table '" + table + "' " + namedBy + " has events named '" + found.name() + ".<op>'",
						"Name them '" + found.name() + ".<op>': events name the tables of the application's schema ("
								+ this.schema.applicationSchema() + ") without their schema, and others with it");
			}
			this.tables.put(table, found);
		}
		List<String> extra = this.properties.getTables();
		for (int i = 0; i < extra.size(); i++) {
			String property = "events.audit.tables[" + i + "]";
			AuditedTable found = find(AuditSchema.validateTableName(property, extra.get(i)), "listed in " + property);
			this.tables.putIfAbsent(found.name(), found);
		}
		excludeColumns(this.properties.getExcludeColumns());
		this.tables.replaceAll((name, table) -> this.subscribers.takesInOrder(name) ? table.inOrder() : table);
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

	private AuditedTable find(String table, String namedBy) {
		AuditedTable found = new SchemaCatalog(this.jdbc, this.schema).findTable(table)
			.orElseThrow(() -> notATable(table, namedBy));
		if (found.keyColumns().isEmpty()) {
			throw new StartupFailure(
					"Table '" + table + "' " + namedBy + " has no primary key, and events identify rows by it",
					"Add one, e.g. ALTER TABLE " + found.relation() + " ADD PRIMARY KEY (id)");
		}
		return found;
	}

	private StartupFailure notATable(String table, String namedBy) {
		return new SchemaCatalog(this.jdbc, this.schema).nonTableKind(table)
			.map((kind) -> new StartupFailure(
					"'" + table + "' " + namedBy + " is " + kind + ", not a table: no trigger captures writes to it",
					"Audit the tables it reads from or writes to"))
			.orElseGet(() -> new StartupFailure(
					"Table '" + table + "' " + namedBy + " does not exist"
							+ ((table.indexOf('.') < 0) ? " in the schemas of the database's search_path" : ""),
					"Create it before the application starts (for example with a Flyway migration), or fix the "
							+ "name"));
	}

}
