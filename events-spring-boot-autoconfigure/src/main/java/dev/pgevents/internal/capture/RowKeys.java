package dev.pgevents.internal.capture;

import java.util.List;

import org.jspecify.annotations.Nullable;

/**
 * The SQL that identifies an audit row's row (its table and primary-key values, read from
 * the row's data) and finds what holds back the delivery of its events to the subscribers
 * that take each row's events in order: one application's audited tables, rendered once.
 */
public final class RowKeys {

	private final AuditSchema schema;

	private final List<AuditedTable> tables;

	/**
	 * @param schema the audit schema
	 * @param tables the application's audited tables
	 */
	public RowKeys(AuditSchema schema, List<AuditedTable> tables) {
		this.schema = schema;
		this.tables = List.copyOf(tables);
	}

	/**
	 * Whether some table's events are taken in order.
	 * @return whether any audited table is ordered
	 */
	public boolean anyOrdered() {
		return this.tables.stream().anyMatch(AuditedTable::ordered);
	}

	/**
	 * An audit row's row as text, its table's name first (the ledger's {@code row_key}):
	 * one CASE over the audited tables, {@code null} for another table.
	 * @param alias the audit row's alias
	 * @return the expression
	 */
	public String text(String alias) {
		if (this.tables.isEmpty()) {
			return "NULL::text";
		}
		StringBuilder sql = new StringBuilder("CASE " + alias + ".table_name");
		for (AuditedTable table : this.tables) {
			sql.append(" WHEN ")
				.append(SqlIdentifier.literal(table.name()))
				.append(" THEN ")
				.append(SqlIdentifier.literal(table.name() + ":"))
				.append(" || coalesce(")
				.append(table.keyExpression(alias))
				.append("::text, '')");
		}
		return sql.append(" END").toString();
	}

	/**
	 * Whether an earlier audit row of the same ordered table and key as the audit row
	 * {@code r} is undispatched, found through the table's index of undispatched rows by
	 * key (audit-order-index.sql); false for the rows of other tables.
	 * @param excluding a condition on the earlier row {@code e} that leaves out the
	 * caller's own rows (which it delivers in order itself), or {@code null}
	 * @return the expression
	 */
	public String inFlight(@Nullable String excluding) {
		StringBuilder sql = new StringBuilder("(CASE r.table_name");
		for (AuditedTable table : this.tables) {
			if (!table.ordered()) {
				continue;
			}
			sql.append(" WHEN ")
				.append(SqlIdentifier.literal(table.name()))
				.append(" THEN EXISTS (SELECT FROM ")
				.append(this.schema.auditTable())
				.append(" e WHERE e.event_processed_at IS NULL AND e.table_name = ")
				.append(SqlIdentifier.literal(table.name()))
				.append(" AND ")
				.append(table.keyExpression("e"))
				.append(" = ")
				.append(table.keyExpression("r"))
				.append(" AND e.id < r.id");
			if (excluding != null) {
				sql.append(" AND ").append(excluding);
			}
			sql.append(")");
		}
		return sql.append(" ELSE false END)").toString();
	}

	/**
	 * The subscribers whose ledger entries hold back the audit row {@code r} (for an
	 * ordered one: an earlier entry of the same row that waits for an attempt or is
	 * dead-lettered), found through the ledger's index by row; an entry not keyed yet
	 * (made by an instance that does not audit its table) counts for every row. Null for
	 * the rows of tables that are not ordered. The keyed and the unkeyed entries are two
	 * lookups of the index: as one condition ({@code row_key = ... OR row_key IS NULL}),
	 * without bitmap scans, the ledger was read by audit id for every row (11 ms a row
	 * with 50,000 entries waiting for a forwarding route). While no entry waits or is
	 * dead, as in normal operation, neither lookup runs: one look at the index, once per
	 * statement, answers for every row (they were half the order check's cost).
	 * @return the expression
	 */
	public String held() {
		return """
				CASE WHEN r.table_name IN (%1$s) THEN
					CASE WHEN (SELECT EXISTS (SELECT FROM %2$s d WHERE d.status IN ('pending', 'dead')))
					THEN ARRAY(SELECT d.subscriber FROM %2$s d
						WHERE d.row_key = %3$s AND d.status IN ('pending', 'dead') AND d.audit_id < r.id)
						|| ARRAY(SELECT d.subscriber FROM %2$s d
						WHERE d.row_key IS NULL AND d.status IN ('pending', 'dead') AND d.audit_id < r.id)
					ELSE '{}'::text[] END END""".formatted(orderedTables(), this.schema.deliveryTable(), text("r"));
	}

	/** The ordered tables as SQL literals for {@code IN}: never empty. */
	private String orderedTables() {
		List<String> names = this.tables.stream()
			.filter(AuditedTable::ordered)
			.map((table) -> SqlIdentifier.literal(table.name()))
			.toList();
		return names.isEmpty() ? "NULL" : String.join(", ", names);
	}

}
