package dev.pgevents.internal.capture;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The statements that install the audit schema and the capture triggers of the audited
 * tables, rendered from the shipped scripts with an {@link AuditSchema}'s names, in the
 * order of installation. Each can run again: relations are created if they do not exist,
 * functions and triggers created or replaced.
 */
public final class SchemaStatements {

	private final AuditSchema schema;

	/**
	 * The statements of one audit schema.
	 * @param schema its names
	 */
	public SchemaStatements(AuditSchema schema) {
		this.schema = schema;
	}

	/**
	 * Every statement that installs the audit schema and the capture triggers of
	 * {@code tables}, in order, for migrations to run.
	 * @param tables the tables to audit
	 * @return the statements, without terminating semicolons
	 */
	public List<String> all(List<AuditedTable> tables) {
		List<String> statements = new ArrayList<>();
		relations().keySet().forEach((script) -> {
			statements.addAll(columnsAddedBefore(script));
			statements.add(this.schema.render(script, Map.of()));
		});
		for (String script : List.of("capture-function", "capture-function-grant", "pending-function",
				"notice-function", "notice-trigger")) {
			statements.add(this.schema.render(script, Map.of()));
		}
		for (AuditedTable table : tables) {
			for (CaptureTrigger trigger : CaptureTrigger.values()) {
				statements.add(trigger(trigger, table));
			}
		}
		tables.stream()
			.filter(AuditedTable::ordered)
			.forEach((table) -> statements.addAll(orderIndex(table, false, false)));
		if (tables.stream().anyMatch(AuditedTable::ordered)) {
			statements.add(this.schema.orderedFunction(tables).definition());
		}
		return statements;
	}

	/**
	 * The scripts that create the audit schema's relations, in order, and each relation.
	 * @return script name to the relation it creates, quoted and schema-qualified
	 */
	Map<String, String> relations() {
		Map<String, String> relations = new LinkedHashMap<>();
		relations.put("audit-table", this.schema.auditTable());
		relations.put("audit-pending-index", this.schema.pendingIndex());
		relations.put("delivery-table", this.schema.deliveryTable());
		relations.put("delivery-due-index", this.schema.dueIndex());
		relations.put("delivery-row-index", this.schema.rowIndex());
		relations.put("subscriber-table", this.schema.subscriberTable());
		relations.put("instance-table", this.schema.instanceTable());
		return relations;
	}

	/**
	 * The columns that versions after the first added to a table, whose index the script
	 * creates: an earlier version's table lacks them.
	 * @param script a script of {@link #relations()}
	 * @return the statements that add them, none for other scripts
	 */
	List<String> columnsAddedBefore(String script) {
		return switch (script) {
			case "audit-pending-index" -> List.of(causation());
			case "delivery-row-index" -> List.of(rowKey());
			default -> List.of();
		};
	}

	/**
	 * The audit table's columns of causation ({@code caused_by}, {@code chain_depth}).
	 * @return the statement that adds them
	 */
	String causation() {
		return this.schema.render("audit-causation", Map.of());
	}

	/**
	 * The ledger's row key column.
	 * @return the statement that adds it
	 */
	String rowKey() {
		return this.schema.render("delivery-row-key", Map.of());
	}

	/**
	 * One capture trigger of a table.
	 * @param trigger the trigger
	 * @param table the audited table
	 * @return the statement that creates or replaces it
	 */
	String trigger(CaptureTrigger trigger, AuditedTable table) {
		return this.schema.render("capture-trigger", trigger.placeholders(this.schema, table));
	}

	/**
	 * The statements that build a table's index of undispatched rows by key, replacing an
	 * invalid one (a concurrent build that failed leaves one behind).
	 * @param table an ordered table
	 * @param invalid whether an invalid index is to be dropped first
	 * @param concurrently whether to build it without holding up the table's writers
	 * @return the statements
	 */
	List<String> orderIndex(AuditedTable table, boolean invalid, boolean concurrently) {
		List<String> statements = new ArrayList<>();
		if (invalid) {
			statements.add("DROP INDEX " + (concurrently ? "CONCURRENTLY " : "") + "IF EXISTS "
					+ this.schema.orderIndex(table, true));
		}
		statements.add(this.schema.render("audit-order-index",
				Map.of("concurrently", concurrently ? "CONCURRENTLY " : "", "order_index",
						this.schema.orderIndex(table, false), "key", table.keyExpression(""), "table_literal",
						SqlIdentifier.literal(table.name()))));
		return statements;
	}

}
