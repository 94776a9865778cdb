package dev.pgevents.internal.dispatch;

import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.jspecify.annotations.Nullable;

import dev.pgevents.Event;

/**
 * The grammar of event names and of the patterns that stand for several: an exact name
 * (<em>table</em>{@code .}<em>operation</em>), <em>table</em>{@code .*} (the table's
 * created, updated and deleted events, not truncated or snapshot), or
 * {@code *.}<em>operation</em> (that operation of every table). The one place that
 * parses, matches and queries them, for annotations, routes, the endpoint and the ledger.
 *
 * @param table the table, {@code null} for {@code *.}<em>operation</em>
 * @param operation the operation, {@code null} for <em>table</em>{@code .*}
 */
public record EventPattern(@Nullable String table, @Nullable String operation) {

	private static final String OPERATION = "(" + Event.CREATED + "|" + Event.UPDATED + "|" + Event.DELETED + "|"
			+ Event.TRUNCATED + "|" + Event.SNAPSHOT + ")";

	/** A table as events name it: {@code member}, or {@code billing.invoice}. */
	private static final String TABLE = "((?:[a-z_][a-z0-9_]{0,62}\\.)?[a-z_][a-z0-9_]{0,62})";

	private static final Pattern EVENT_NAME = Pattern.compile(TABLE + "\\." + OPERATION);

	private static final Pattern ANY_OPERATION = Pattern.compile(TABLE + "\\.\\*");

	private static final Pattern ANY_TABLE = Pattern.compile("\\*\\." + OPERATION);

	/** The operations that <em>table</em>{@code .*} stands for. */
	static final List<String> ROW_OPERATIONS = List.of(Event.CREATED, Event.UPDATED, Event.DELETED);

	/**
	 * Parse an event name or pattern.
	 * @param nameOrPattern {@code member.created}, {@code member.*} or {@code *.deleted}
	 * @return the pattern
	 * @throws IllegalArgumentException naming what is wrong and what would be right
	 */
	public static EventPattern parse(String nameOrPattern) {
		Matcher exact = EVENT_NAME.matcher(nameOrPattern);
		if (exact.matches()) {
			return new EventPattern(exact.group(1), exact.group(2));
		}
		Matcher anyOperation = ANY_OPERATION.matcher(nameOrPattern);
		if (anyOperation.matches()) {
			return new EventPattern(anyOperation.group(1), null);
		}
		Matcher anyTable = ANY_TABLE.matcher(nameOrPattern);
		if (anyTable.matches()) {
			return new EventPattern(null, anyTable.group(1));
		}
		String nearest = nearest(nameOrPattern);
		throw new IllegalArgumentException("event name '" + nameOrPattern
				+ "' is not '<table>.<created|updated|deleted|truncated|snapshot>' with a lower-case table name, "
				+ "schema-qualified for a table outside the application's schema ('billing.invoice.created'), "
				+ "nor a pattern '<table>.*' or '*.<created|updated|deleted|truncated|snapshot>'"
				+ ((nearest != null) ? ". Did you mean '" + nearest + "'?" : ""));
	}

	/**
	 * The valid name or pattern nearest to a wrong one: in lower case, its last part the
	 * operation (or {@code *}) within two edits of it.
	 */
	private static @Nullable String nearest(String wrong) {
		String lower = wrong.toLowerCase(Locale.ROOT).strip();
		int dot = lower.lastIndexOf('.');
		if (dot <= 0) {
			return null;
		}
		String last = lower.substring(dot + 1);
		String best = null;
		int bestDistance = 3;
		for (String operation : List.of(Event.CREATED, Event.UPDATED, Event.DELETED, Event.TRUNCATED, Event.SNAPSHOT,
				"*")) {
			int distance = distance(last, operation);
			if (distance < bestDistance) {
				best = operation;
				bestDistance = distance;
			}
		}
		if (best == null) {
			return null;
		}
		String candidate = lower.substring(0, dot + 1) + best;
		boolean valid = EVENT_NAME.matcher(candidate).matches() || ANY_OPERATION.matcher(candidate).matches()
				|| ANY_TABLE.matcher(candidate).matches();
		return (valid && !candidate.equals(wrong)) ? candidate : null;
	}

	/** The Levenshtein distance of two short words. */
	private static int distance(String a, String b) {
		int[] previous = new int[b.length() + 1];
		int[] current = new int[b.length() + 1];
		for (int j = 0; j <= b.length(); j++) {
			previous[j] = j;
		}
		for (int i = 1; i <= a.length(); i++) {
			current[0] = i;
			for (int j = 1; j <= b.length(); j++) {
				int substitution = previous[j - 1] + ((a.charAt(i - 1) == b.charAt(j - 1)) ? 0 : 1);
				current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
			}
			int[] swap = previous;
			previous = current;
			current = swap;
		}
		return previous[b.length()];
	}

	/**
	 * Whether an event name is this one or one this pattern stands for.
	 * @param eventName an event name, such as {@code member.created}
	 * @return whether it matches
	 */
	public boolean matches(String eventName) {
		int dot = eventName.lastIndexOf('.');
		String eventTable = eventName.substring(0, Math.max(dot, 0));
		String eventOperation = eventName.substring(dot + 1);
		if (this.table == null) {
			return eventOperation.equals(this.operation);
		}
		if (this.operation == null) {
			return eventTable.equals(this.table) && ROW_OPERATIONS.contains(eventOperation);
		}
		return eventTable.equals(this.table) && eventOperation.equals(this.operation);
	}

	/**
	 * The event names this pattern stands for among a table's, without knowing the
	 * tables: an exact name, or <em>table</em>{@code .*}'s three.
	 * @return the names, empty for {@code *.}<em>operation</em>
	 */
	List<String> names() {
		if (this.table == null) {
			return List.of();
		}
		if (this.operation == null) {
			return ROW_OPERATIONS.stream().map((op) -> this.table + "." + op).toList();
		}
		return List.of(this.table + "." + this.operation);
	}

	/**
	 * The event names this pattern stands for among the given tables':
	 * {@code *.}<em>operation</em> that operation of each, the others as
	 * {@link #names()}.
	 * @param tables the tables, as events name them
	 * @return the names
	 */
	List<String> names(Collection<String> tables) {
		if (this.table == null) {
			return tables.stream().map((name) -> name + "." + this.operation).toList();
		}
		return names();
	}

	/**
	 * The SQL condition on audit rows {@code alias} that this pattern stands for.
	 * @param alias the audit table's alias
	 * @param args receives the condition's arguments
	 * @return the condition
	 */
	String condition(String alias, List<Object> args) {
		if (this.table == null) {
			args.add(this.operation);
			return alias + ".op = ?";
		}
		args.add(this.table);
		if (this.operation == null) {
			return alias + ".table_name = ? AND " + alias + ".op IN ('" + String.join("', '", ROW_OPERATIONS) + "')";
		}
		args.add(this.operation);
		return alias + ".table_name = ? AND " + alias + ".op = ?";
	}

}
