package dev.pgevents;

import java.util.Map;

import org.jspecify.annotations.Nullable;

/**
 * The row an {@link Event} is about.
 *
 * @param id the primary-key value as a string (the values joined with {@code ","} for a
 * composite key)
 * @param type the table name in UpperCamelCase ({@code member_profile} becomes
 * {@code MemberProfile})
 * @param data the row after the change (for a deleted row: the row as it was), keys in
 * lowerCamelCase ({@code created_at} becomes {@code createdAt})
 * @param previousData {@code null} for a created row; the row before the change for an
 * updated row; the deleted row for a deleted row
 */
public record EventTarget(String id, String type, Map<String, Object> data,
		@Nullable Map<String, Object> previousData) {

}
