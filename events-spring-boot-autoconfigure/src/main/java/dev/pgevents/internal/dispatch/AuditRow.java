package dev.pgevents.internal.dispatch;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;

import org.jspecify.annotations.Nullable;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.ObjectReadContext;

import dev.pgevents.Trace;

/**
 * One row of the audit table, as read for dispatch.
 *
 * @param causedBy the event whose subscriber wrote the row, if one did
 * @param chainDepth how many subscriber calls led to the row: 0 for a change no
 * subscriber made
 */
record AuditRow(long id, String tableName, String op, String data, @Nullable String previousData,
		@Nullable String identityId, @Nullable String traceId, @Nullable String spanId, Instant createdAt,
		@Nullable Long causedBy, int chainDepth) {

	/** The columns {@link #read(ResultSet)} expects, in a form to select. */
	static final String COLUMNS = "id, table_name, op, data::text, previous_data::text, identity_id, trace_id, span_id,"
			+ " created_at, caused_by, chain_depth";

	/** How many columns {@link #COLUMNS} selects. */
	static final int COLUMN_COUNT = COLUMNS.split(",").length;

	static AuditRow read(ResultSet rs) throws SQLException {
		return new AuditRow(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
				rs.getString(6), rs.getString(7), rs.getString(8), rs.getObject(9, OffsetDateTime.class).toInstant(),
				rs.getObject(10, Long.class), rs.getInt(11));
	}

	/**
	 * A row as the commit sent it back (see notice-function.sql): a JSON array of the
	 * transaction's scope, how many rows it wrote, and the row's columns, its data as
	 * JSON, which is taken as it stands.
	 * @param notice the notice's text after its prefix
	 * @param scope the committed transaction's scope
	 * @param written how many rows the transaction's commit sent back
	 * @return the row, or {@code null} when the notice is another transaction's, counts
	 * another number of rows, or is not one of the rows
	 */
	static @Nullable AuditRow fromNotice(String notice, String scope, String written) {
		try (JsonParser json = EventFactory.JSON.createParser(ObjectReadContext.empty(), notice)) {
			if (json.nextToken() != JsonToken.START_ARRAY || !scope.equals(nextText(json))
					|| !written.equals(nextText(json)) || json.nextToken() != JsonToken.VALUE_NUMBER_INT) {
				return null;
			}
			long id = json.getLongValue();
			String table = nextText(json);
			String op = nextText(json);
			String data = nextObject(json, notice);
			String previousData = nextObject(json, notice);
			String identityId = nextText(json);
			String traceId = nextText(json);
			String spanId = nextText(json);
			String createdAt = nextText(json);
			Long causedBy = (json.nextToken() == JsonToken.VALUE_NUMBER_INT) ? json.getLongValue() : null;
			int chainDepth = (json.nextToken() == JsonToken.VALUE_NUMBER_INT) ? json.getIntValue() : 0;
			if (table == null || op == null || data == null || createdAt == null
					|| json.nextToken() != JsonToken.END_ARRAY) {
				return null;
			}
			return new AuditRow(id, table, op, data, previousData, identityId, traceId, spanId,
					OffsetDateTime.parse(createdAt).toInstant(), causedBy, chainDepth);
		}
		catch (JacksonException | DateTimeParseException ex) {
			return null;
		}
	}

	private static @Nullable String nextText(JsonParser json) {
		return (json.nextToken() == JsonToken.VALUE_STRING) ? json.getString() : null;
	}

	/** The next value, a JSON object, as its text stands in {@code source}. */
	private static @Nullable String nextObject(JsonParser json, String source) {
		if (json.nextToken() != JsonToken.START_OBJECT) {
			return null;
		}
		int start = (int) json.currentTokenLocation().getCharOffset();
		json.skipChildren();
		return source.substring(start, (int) json.currentTokenLocation().getCharOffset() + 1);
	}

	String eventName() {
		return this.tableName + "." + this.op;
	}

	String traceparent() {
		Trace trace = (this.traceId != null && this.spanId != null) ? new Trace(this.traceId, this.spanId)
				: Trace.random();
		return trace.traceparent();
	}

}
