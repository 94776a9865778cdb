package dev.pgevents.internal.dispatch;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;

import javax.sql.DataSource;

import org.jspecify.annotations.Nullable;

import dev.pgevents.internal.capture.AuditSchema;

import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Reads a committed transaction's undispatched rows, a page at a time, through the
 * pending function, which keeps its plan per connection (see pending-function.sql), or
 * takes them from what its commit sent back (see notice-function.sql).
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
	 * The rows a transaction's commit sent back, when they are all there and nothing else
	 * is needed: every notice names the transaction's scope and how many rows it wrote,
	 * and there are that many. Ordered subscribers need the lookup, which also finds what
	 * holds their deliveries back.
	 * @param scope the transaction's scope
	 * @param notices the starter's notices of its commit
	 * @return the rows, in id order, or {@code null} when they are to be read
	 */
	@Nullable List<AuditRow> sent(UUID scope, List<String> notices) {
		if (notices.isEmpty() || this.order.applies()) {
			return null;
		}
		String transaction = scope.toString();
		String written = String.valueOf(notices.size());
		List<AuditRow> rows = new ArrayList<>(notices.size());
		for (String notice : notices) {
			AuditRow row = AuditRow.fromNotice(notice, transaction, written);
			if (row == null) {
				return null;
			}
			rows.add(row);
		}
		rows.sort(Comparator.comparingLong(AuditRow::id));
		return rows;
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
