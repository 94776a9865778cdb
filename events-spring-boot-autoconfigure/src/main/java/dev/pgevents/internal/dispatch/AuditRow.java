package dev.pgevents.internal.dispatch;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;

import org.jspecify.annotations.Nullable;

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

	String eventName() {
		return this.tableName + "." + this.op;
	}

	String traceparent() {
		Trace trace = (this.traceId != null && this.spanId != null) ? new Trace(this.traceId, this.spanId)
				: Trace.random();
		return trace.traceparent();
	}

}
