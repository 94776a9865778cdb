package dev.pgevents.internal.capture;

import java.util.ArrayList;
import java.util.List;

/**
 * A table whose changes are captured.
 *
 * @param name the table name as it appears in event names ({@code member})
 * @param relation the table, schema-qualified and quoted as needed, safe to place in SQL
 * @param keyColumns the primary-key columns, in key order
 * @param columns the columns its audit rows and events carry, in table order
 * @param excludedColumns the columns left out of its audit rows, in table order
 * @param partitioned whether it is a partitioned table, whose rows are captured by
 * row-level triggers that PostgreSQL clones onto every partition
 * @param ordered whether a subscriber of the application takes its rows' events in order,
 * which looks its undispatched rows up by key
 */
public record AuditedTable(String name, String relation, List<String> keyColumns, List<String> columns,
		List<String> excludedColumns, boolean partitioned, boolean ordered) {

	/**
	 * A table whose every column is captured.
	 * @param name the table name as it appears in event names
	 * @param relation the table, schema-qualified, safe to place in SQL
	 * @param keyColumns the primary-key columns, in key order
	 * @param columns all its columns, in table order
	 */
	public AuditedTable(String name, String relation, List<String> keyColumns, List<String> columns) {
		this(name, relation, keyColumns, columns, List.of(), false, false);
	}

	/**
	 * This table with some of its columns left out of the audit rows.
	 * @param excluded columns of the table that are not key columns
	 * @return the table
	 */
	public AuditedTable excluding(List<String> excluded) {
		List<String> all = new ArrayList<>(this.columns);
		all.addAll(this.excludedColumns);
		List<String> kept = all.stream().filter((column) -> !excluded.contains(column)).toList();
		List<String> left = all.stream().filter(excluded::contains).toList();
		return new AuditedTable(this.name, this.relation, this.keyColumns, kept, left, this.partitioned, this.ordered);
	}

	/**
	 * This table, with a subscriber that takes its rows' events in order.
	 * @return the table
	 */
	public AuditedTable inOrder() {
		return new AuditedTable(this.name, this.relation, this.keyColumns, this.columns, this.excludedColumns,
				this.partitioned, true);
	}

	/**
	 * Its rows' key in SQL, read from an audit row's data: the primary-key value (jsonb),
	 * or an array of them for a composite key. A {@code truncated} row's is null.
	 * @param alias the audit table's alias, or an empty string for none
	 * @return the expression
	 */
	public String keyExpression(String alias) {
		String data = alias.isEmpty() ? "data" : alias + ".data";
		List<String> values = this.keyColumns.stream()
			.map((column) -> data + " -> '" + column.replace("'", "''") + "'")
			.toList();
		return (values.size() == 1) ? "(" + values.get(0) + ")" : "ARRAY[" + String.join(", ", values) + "]";
	}

	/**
	 * Its primary-key columns in SQL, quoted, in key order: what a keyset over its rows
	 * orders and compares by.
	 * @param alias the table's alias
	 * @return the columns, comma-separated
	 */
	public String keyColumnList(String alias) {
		return String.join(", ", keyColumns(alias));
	}

	/**
	 * Its primary-key columns in SQL, quoted, in key order.
	 * @param alias the table's alias
	 * @return the columns, each qualified with the alias
	 */
	public List<String> keyColumns(String alias) {
		return this.keyColumns.stream().map((column) -> alias + "." + SqlIdentifier.quote(column)).toList();
	}

	/**
	 * An expression that turns a row of it into the data of its audit rows: the row as
	 * jsonb, without its excluded columns.
	 * @param alias the table's alias
	 * @return the expression
	 */
	public String dataExpression(String alias) {
		String row = "to_jsonb(" + alias + ".*)";
		return this.excludedColumns.isEmpty() ? row : row + " - ARRAY["
				+ String.join(", ", this.excludedColumns.stream().map(SqlIdentifier::literal).toList()) + "]::text[]";
	}

	/**
	 * The arguments of one of its capture triggers: those of a statement-level trigger
	 * begin with the key columns, those of a row-level one with the table's name; then,
	 * when columns are excluded, an empty string (no column has an empty name) and the
	 * excluded columns.
	 * @param rowLevel whether the trigger is row-level
	 * @return the arguments, in order
	 */
	public List<String> triggerArguments(boolean rowLevel) {
		List<String> arguments = new ArrayList<>(rowLevel ? List.of(this.name) : this.keyColumns);
		if (!this.excludedColumns.isEmpty()) {
			arguments.add("");
			arguments.addAll(this.excludedColumns);
		}
		return arguments;
	}

}
