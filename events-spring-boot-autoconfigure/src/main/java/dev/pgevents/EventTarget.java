package dev.pgevents;

import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.jspecify.annotations.Nullable;

/**
 * The row an {@link Event} is about.
 *
 * @param id the primary-key value as a string (the values joined with {@code ","} for a
 * composite key); empty for a truncated table
 * @param type the table name in UpperCamelCase, without its schema
 * ({@code member_profile} becomes {@code MemberProfile}, {@code billing.invoice}
 * {@code Invoice})
 * @param data the row after the change (for a deleted row: the row as it was), keys in
 * lowerCamelCase ({@code created_at} becomes {@code createdAt}); empty for a truncated
 * table
 * @param previousData {@code null} for a created row; the row before the change for an
 * updated row; the deleted row for a deleted row
 * @param changedFields for an updated row, the keys of {@code data} whose value differs
 * from {@code previousData}'s, in {@code data}'s order; empty for a created or deleted
 * row
 */
public record EventTarget(String id, String type, Map<String, @Nullable Object> data,
		@Nullable Map<String, @Nullable Object> previousData, List<String> changedFields) {

	/**
	 * The target of a change; {@code changedFields} may be {@code null} (a target read
	 * from JSON that lacks them), and is then computed from the two rows.
	 */
	public EventTarget {
		changedFields = (changedFields != null) ? List.copyOf(changedFields) : changedFields(data, previousData);
	}

	/**
	 * The target of a change, its changed fields computed from the two rows.
	 * @param id the primary-key value as a string
	 * @param type the table name in UpperCamelCase
	 * @param data the row after the change
	 * @param previousData the row before it, or {@code null}
	 */
	public EventTarget(String id, String type, Map<String, @Nullable Object> data,
			@Nullable Map<String, @Nullable Object> previousData) {
		this(id, type, data, previousData, changedFields(data, previousData));
	}

	private static List<String> changedFields(Map<String, @Nullable Object> data,
			@Nullable Map<String, @Nullable Object> previousData) {
		if (previousData == null || previousData == data) {
			return List.of();
		}
		return data.entrySet()
			.stream()
			.filter((field) -> !sameValue(field.getValue(), previousData.get(field.getKey()))
					|| !previousData.containsKey(field.getKey()))
			.map(Map.Entry::getKey)
			.toList();
	}

	/**
	 * Numbers from JSON compare by value: {@code 1.50} did not change from {@code 1.5}.
	 */
	private static boolean sameValue(@Nullable Object value, @Nullable Object previous) {
		if (value instanceof BigDecimal decimal && previous instanceof BigDecimal other) {
			return decimal.compareTo(other) == 0;
		}
		return Objects.equals(value, previous);
	}

}
