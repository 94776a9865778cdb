package dev.pgevents.internal.dispatch;

import java.time.Instant;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

import org.jspecify.annotations.Nullable;
import tools.jackson.core.StreamReadConstraints;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.ObjectReader;
import tools.jackson.databind.json.JsonMapper;

import dev.pgevents.Event;
import dev.pgevents.EventTarget;
import dev.pgevents.internal.capture.AuditedTable;
import dev.pgevents.internal.support.StartupFailure;

/**
 * Turns audit rows into {@link Event}s with Keel's naming: <em>table</em>{@code .}
 * <em>op</em> event names, UpperCamelCase target types, lowerCamelCase data keys, the
 * primary key as the target id. Public for {@link #event}, the same making for tools that
 * have no audit row (the test kit's event builders).
 */
public final class EventFactory {

	private final Map<String, List<String>> keyColumns;

	private final Map<String, String> lowerCamel = new ConcurrentHashMap<>();

	private final Map<String, String> upperCamel = new ConcurrentHashMap<>();

	/**
	 * Reads row JSON without the default size limits: whatever PostgreSQL stores in a
	 * {@code jsonb} (a {@code numeric} of 131,072 digits, values nested thousands deep,
	 * strings of many megabytes) reaches the event.
	 */
	static final JsonFactory JSON = JsonFactory.builder()
		.streamReadConstraints(StreamReadConstraints.builder()
			.maxNestingDepth(Integer.MAX_VALUE)
			.maxNumberLength(Integer.MAX_VALUE)
			.maxStringLength(Integer.MAX_VALUE)
			.maxNameLength(Integer.MAX_VALUE)
			.build())
		.build();

	/**
	 * Reads row JSON into maps, without the size limits ({@link #JSON}). The reader does
	 * not recurse into nested values. Fractions are read as {@code BigDecimal}, so that a
	 * {@code numeric} reaches the event exactly as stored (integers beyond a {@code long}
	 * are {@code BigInteger} already).
	 */
	private static final ObjectReader ROW_READER = JsonMapper.builder(JSON)
		.enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
		.build()
		// resolved once: resolving the map type took a tenth of the relay's time
		.readerFor(new TypeReference<Map<String, Object>>() {
		});

	/**
	 * @param tables the audited tables
	 * @throws StartupFailure when two columns of a table have the same data key
	 */
	EventFactory(List<AuditedTable> tables) {
		Map<String, List<String>> keyColumns = new HashMap<>();
		for (AuditedTable table : tables) {
			keyColumns.put(table.name(), table.keyColumns());
			Map<String, String> columnsByKey = new HashMap<>();
			for (String column : table.columns()) {
				String other = columnsByKey.put(toLowerCamel(column), column);
				if (other != null) {
					throw new StartupFailure("Columns \"" + other + "\" and \"" + column + "\" of table '"
							+ table.name() + "' both become the key '" + toLowerCamel(column)
							+ "' of the events' data, where one would hide the other", "Rename one of them");
				}
			}
		}
		this.keyColumns = Map.copyOf(keyColumns);
	}

	Event toEvent(AuditRow row) {
		Long causedBy = row.causedBy();
		return make(row.id(), row.tableName(), row.op(), row.data(), row.previousData(),
				this.keyColumns.getOrDefault(row.tableName(), List.of("id")), row.identityId(), row.createdAt(),
				(causedBy != null) ? Long.toString(causedBy) : null, this.lowerCamel, this.upperCamel);
	}

	/**
	 * Make the event the library delivers for a row change.
	 * @param id the audit row id
	 * @param table the table name
	 * @param op {@link Event#CREATED}, {@link Event#UPDATED}, {@link Event#DELETED} or
	 * {@link Event#TRUNCATED}
	 * @param data the row after the change (the deleted row for a delete), as JSON with
	 * the column names as keys
	 * @param previousData the row before an update, as JSON, or {@code null}
	 * @param keyColumns the primary-key columns, in key order
	 * @param identityId who made the change
	 * @param occurredAt when the row was written
	 * @return the event
	 */
	public static Event event(long id, String table, String op, String data, @Nullable String previousData,
			List<String> keyColumns, @Nullable String identityId, Instant occurredAt) {
		return make(id, table, op, data, previousData, keyColumns, identityId, occurredAt, null, new HashMap<>(),
				new HashMap<>());
	}

	private static Event make(long id, String table, String op, String json, @Nullable String previousJson,
			List<String> keyColumns, @Nullable String identityId, Instant occurredAt, @Nullable String causedBy,
			Map<String, String> lowerCamel, Map<String, String> upperCamel) {
		Map<String, Object> columns = ROW_READER.readValue(json);
		Map<String, Object> data = camelCaseKeys(columns, lowerCamel);
		Map<String, Object> previousData = switch (op) {
			case Event.DELETED -> data;
			case Event.UPDATED ->
				(previousJson != null) ? camelCaseKeys(ROW_READER.readValue(previousJson), lowerCamel) : null;
			default -> null;
		};
		String type = upperCamel.computeIfAbsent(table,
				(name) -> toUpperCamel(name.substring(name.lastIndexOf('.') + 1)));
		String targetId = op.equals(Event.TRUNCATED) ? "" : targetId(keyColumns, columns);
		EventTarget target = new EventTarget(targetId, type, data, previousData);
		return new Event(Long.toString(id), table + "." + op, occurredAt, identityId, target, causedBy);
	}

	private static String targetId(List<String> keys, Map<String, Object> columns) {
		if (keys.size() == 1) {
			return String.valueOf(columns.get(keys.get(0)));
		}
		return keys.stream().map((key) -> String.valueOf(columns.get(key))).collect(Collectors.joining(","));
	}

	private static Map<String, Object> camelCaseKeys(Map<String, @Nullable Object> columns,
			Map<String, String> lowerCamel) {
		Map<String, Object> data = new LinkedHashMap<>(columns.size() * 2);
		columns.forEach(
				(column, value) -> data.put(lowerCamel.computeIfAbsent(column, EventFactory::toLowerCamel), value));
		return Collections.unmodifiableMap(data);
	}

	static String toLowerCamel(String snake) {
		String upper = toUpperCamel(snake);
		return upper.isEmpty() ? upper : Character.toLowerCase(upper.charAt(0)) + upper.substring(1);
	}

	static String toUpperCamel(String snake) {
		StringBuilder camel = new StringBuilder(snake.length());
		boolean upper = true;
		for (char c : snake.toCharArray()) {
			if (c == '_') {
				upper = true;
			}
			else {
				camel.append(upper ? Character.toUpperCase(c) : c);
				upper = false;
			}
		}
		return camel.toString();
	}

}
