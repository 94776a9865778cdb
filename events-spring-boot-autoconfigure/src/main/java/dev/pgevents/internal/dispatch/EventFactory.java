package dev.pgevents.internal.dispatch;

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
import tools.jackson.databind.json.JsonMapper;

import dev.pgevents.Event;
import dev.pgevents.EventTarget;
import dev.pgevents.internal.capture.AuditedTable;
import dev.pgevents.internal.capture.StartupFailure;

/**
 * Turns audit rows into {@link Event}s with Keel's naming: {@code
 *
<table>
 * .<op>} event names, UpperCamelCase target types, lowerCamelCase data keys, the primary
 * key as the target id.
 */
final class EventFactory {

	private static final TypeReference<Map<String, Object>> ROW = new TypeReference<>() {
	};

	private final Map<String, List<String>> keyColumns;

	private final Map<String, String> lowerCamel = new ConcurrentHashMap<>();

	private final Map<String, String> upperCamel = new ConcurrentHashMap<>();

	/**
	 * Reads row JSON into maps, without the reader's default size limits: whatever
	 * PostgreSQL stores in a {@code jsonb} (a {@code numeric} of 131,072 digits, values
	 * nested thousands deep, strings of many megabytes) reaches the event. The reader
	 * does not recurse into nested values. Fractions are read as {@code BigDecimal}, so
	 * that a {@code numeric} reaches the event exactly as stored (integers beyond a
	 * {@code long} are {@code BigInteger} already).
	 */
	private static final JsonMapper ROW_READER = JsonMapper
		.builder(JsonFactory.builder()
			.streamReadConstraints(StreamReadConstraints.builder()
				.maxNestingDepth(Integer.MAX_VALUE)
				.maxNumberLength(Integer.MAX_VALUE)
				.maxStringLength(Integer.MAX_VALUE)
				.maxNameLength(Integer.MAX_VALUE)
				.build())
			.build())
		.enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
		.build();

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
		Map<String, Object> columns = ROW_READER.readValue(row.data(), ROW);
		Map<String, Object> data = camelCaseKeys(columns);
		Map<String, Object> previousData = switch (row.op()) {
			case Event.DELETED -> data;
			case Event.UPDATED ->
				(row.previousData() != null) ? camelCaseKeys(ROW_READER.readValue(row.previousData(), ROW)) : null;
			default -> null;
		};
		String type = this.upperCamel.computeIfAbsent(row.tableName(), EventFactory::toUpperCamel);
		EventTarget target = new EventTarget(targetId(row.tableName(), columns), type, data, previousData);
		return new Event(Long.toString(row.id()), row.tableName() + "." + row.op(), row.createdAt(), row.identityId(),
				target);
	}

	private String targetId(String table, Map<String, Object> columns) {
		List<String> keys = this.keyColumns.getOrDefault(table, List.of("id"));
		if (keys.size() == 1) {
			return String.valueOf(columns.get(keys.get(0)));
		}
		return keys.stream().map((key) -> String.valueOf(columns.get(key))).collect(Collectors.joining(","));
	}

	private Map<String, Object> camelCaseKeys(Map<String, @Nullable Object> columns) {
		Map<String, Object> data = new LinkedHashMap<>(columns.size() * 2);
		columns.forEach((column, value) -> data.put(this.lowerCamel.computeIfAbsent(column, EventFactory::toLowerCamel),
				value));
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
