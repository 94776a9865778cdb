package dev.pgevents.internal.capture;

import java.util.Collection;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Tells, from its text alone, whether an SQL statement may write an audited table: it
 * names one and is not a plain query. Wrong answers are allowed one way only: a statement
 * taken for a writer that is not one costs a transaction its context's round trip and a
 * lookup after commit; a writer it misses (a function or another table's trigger that
 * writes an audited table) leaves that transaction's rows to the relays, delivered
 * without identity and with a trace of their own.
 */
final class AuditedStatements {

	private final Pattern tableNames;

	private AuditedStatements(Pattern tableNames) {
		this.tableNames = tableNames;
	}

	/**
	 * Statements that name any of {@code tables}, or, for a partitioned table, an
	 * identifier that contains its name (its partitions' names, as usually made:
	 * {@code orders_2026}).
	 * @param tables the audited tables
	 * @return the filter
	 */
	static AuditedStatements naming(Collection<AuditedTable> tables) {
		String names = tables.stream()
			.map((table) -> unqualified(table.name())
					+ (table.partitioned() ? "|[\\w$]*" + unqualified(table.name()) + "[\\w$]*" : ""))
			.distinct()
			.collect(Collectors.joining("|"));
		return new AuditedStatements(Pattern.compile("(?<![\\w$])(?:" + names + ")(?![\\w$])",
				Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE));
	}

	private static String unqualified(String table) {
		return Pattern.quote(table.substring(table.lastIndexOf('.') + 1));
	}

	/**
	 * Whether {@code sql} may write an audited table.
	 * @param sql a statement as the application sends it
	 * @return {@code false} when it names no audited table or only reads
	 */
	boolean mayWrite(String sql) {
		return !isQuery(sql) && this.tableNames.matcher(sql).find();
	}

	/**
	 * Whether the statement starts with a keyword of a statement that cannot write a
	 * table by itself ({@code SELECT}, {@code VALUES}, {@code TABLE}, {@code SHOW}); a
	 * function it calls may, but then the statement does not name the table either.
	 */
	static boolean isQuery(String sql) {
		int i = 0;
		int length = sql.length();
		while (i < length) {
			char c = sql.charAt(i);
			if (Character.isWhitespace(c) || c == '(') {
				i++;
			}
			else if (sql.startsWith("--", i)) {
				int end = sql.indexOf('\n', i);
				i = (end < 0) ? length : end + 1;
			}
			else if (sql.startsWith("/*", i)) {
				int end = sql.indexOf("*/", i + 2);
				i = (end < 0) ? length : end + 2;
			}
			else {
				break;
			}
		}
		int end = i;
		while (end < length && Character.isLetter(sql.charAt(end))) {
			end++;
		}
		String keyword = sql.substring(i, end).toLowerCase(Locale.ROOT);
		return keyword.equals("select") || keyword.equals("values") || keyword.equals("table")
				|| keyword.equals("show");
	}

}
