package dev.pgevents.internal.dispatch;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import javax.sql.DataSource;

import dev.pgevents.internal.capture.AuditSchema;

import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Reads a committed transaction's undispatched rows, a page at a time, through the
 * pending function, which keeps its plan per connection (see pending-function.sql).
 */
final class ScopeRows {

	private final JdbcTemplate jdbc;

	private final String select;

	private final RowOrder order;

	ScopeRows(DataSource dataSource, AuditSchema schema, int page, RowOrder order) {
		this.jdbc = new JdbcTemplate(dataSource);
		this.select = "SELECT " + AuditRow.COLUMNS + " FROM " + schema.pendingFunction() + "(?, ?, " + page + ")";
		this.order = order;
	}

	/**
	 * Read a page on the connection the transaction committed on. The connection may
	 * still be in manual-commit mode until the transaction manager resets it: read in
	 * autocommit, and leave the mode as it was (switching sends nothing to the server
	 * while no transaction is open, and the caller made sure none is).
	 * @param connection the committing thread's connection
	 * @param scope the transaction's scope
	 * @param after the id of the last row read, or 0
	 * @param batch learns what holds back the rows' ordered deliveries
	 * @return the page's rows, in id order
	 * @throws SQLException when the database fails
	 */
	List<AuditRow> read(Connection connection, UUID scope, long after, OrderBatch batch) throws SQLException {
		boolean autoCommit = connection.getAutoCommit();
		if (!autoCommit) {
			connection.setAutoCommit(true);
		}
		try {
			return query(connection, scope, after, batch);
		}
		finally {
			if (!autoCommit) {
				connection.setAutoCommit(false);
			}
		}
	}

	/**
	 * Read a page on a connection of the pool: for the dispatch executor's threads, which
	 * hold none of their own.
	 * @param scope the transaction's scope
	 * @param after the id of the last row read, or 0
	 * @param batch learns what holds back the rows' ordered deliveries
	 * @return the page's rows, in id order
	 */
	List<AuditRow> read(UUID scope, long after, OrderBatch batch) {
		List<AuditRow> rows = this.jdbc.execute((Connection connection) -> query(connection, scope, after, batch));
		return (rows != null) ? rows : List.of();
	}

	/**
	 * Read a page, with what holds back its rows' ordered deliveries when this instance
	 * has ordered subscribers (in the same round trip).
	 */
	private List<AuditRow> query(Connection connection, UUID scope, long after, OrderBatch batch) throws SQLException {
		boolean ordered = this.order.applies();
		try (PreparedStatement select = connection.prepareStatement(ordered ? this.order.read() : this.select)) {
			if (ordered) {
				this.order.bindRead(select, scope, after);
			}
			else {
				select.setObject(1, scope);
				select.setLong(2, after);
			}
			List<AuditRow> rows = new ArrayList<>();
			try (ResultSet rs = select.executeQuery()) {
				while (rs.next()) {
					AuditRow row = AuditRow.read(rs);
					rows.add(row);
					if (ordered) {
						batch.read(row.id(), rs.getBoolean(AuditRow.COLUMN_COUNT + 1),
								rs.getArray(AuditRow.COLUMN_COUNT + 2));
					}
				}
			}
			return rows;
		}
	}

}
