package dev.pgevents.internal.capture;

import java.util.List;

/**
 * A table whose changes are captured.
 *
 * @param name the table name as it appears in event names ({@code member})
 * @param relation the table as PostgreSQL prints it, quoted and qualified as needed, safe
 * to place in SQL
 * @param keyColumns the primary-key columns, in key order
 * @param columns all its columns, in table order
 */
public record AuditedTable(String name, String relation, List<String> keyColumns, List<String> columns) {

}
