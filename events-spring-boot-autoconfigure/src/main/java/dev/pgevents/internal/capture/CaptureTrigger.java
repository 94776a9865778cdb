package dev.pgevents.internal.capture;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import org.jspecify.annotations.Nullable;

/**
 * The four triggers of an audited table: statement-level ones with transition tables (a
 * trigger with transition tables serves one event only) and TRUNCATE, which has none. A
 * partitioned table's INSERT, UPDATE and DELETE triggers are row-level instead, without
 * transition tables (PostgreSQL refuses them there): PostgreSQL clones row-level triggers
 * onto every partition, present and future, so writes made directly on a partition are
 * captured too.
 */
enum CaptureTrigger {

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

	/**
	 * The trigger's name.
	 * @param schema the audit schema, whose triggers are named after its table
	 * @return the unquoted trigger name
	 */
	String name(AuditSchema schema) {
		return schema.triggerName(this.operation);
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

	/**
	 * The trigger's arguments as {@code pg_trigger.tgargs} holds them: each followed by a
	 * zero byte.
	 * @param table the audited table
	 * @return the bytes
	 */
	byte[] catalogArguments(AuditedTable table) {
		return table.triggerArguments(rowLevel(table))
			.stream()
			.map((column) -> column + '\0')
			.collect(Collectors.joining())
			.getBytes(StandardCharsets.UTF_8);
	}

	Map<String, String> placeholders(AuditSchema schema, AuditedTable table) {
		Map<String, String> placeholders = new HashMap<>();
		placeholders.put("trigger_name", SqlIdentifier.quote(name(schema)));
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
					.map(SqlIdentifier::literal)
					.collect(Collectors.joining(", ")));
		return placeholders;
	}

}
