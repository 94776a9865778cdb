package dev.pgevents.internal.dispatch;

import java.sql.SQLException;
import java.sql.Statement;

import javax.sql.DataSource;

import org.postgresql.PGStatement;

import org.springframework.jdbc.core.JdbcTemplate;

/**
 * JDBC access to the audit and ledger tables, planned afresh on every execution.
 * <p>
 * The driver switches a statement it sees repeatedly to a server-side prepared statement,
 * whose generic plan PostgreSQL may keep. Made while the audit table is nearly empty
 * (just installed or truncated) that plan is a sequential scan, and it stays one as the
 * table grows, until the next analyze: every lookup then reads the whole table. Custom
 * plans follow the table's size, for the price of planning these statements each time.
 * The lookup, which runs once per transaction, keeps its plan in a function instead
 * (pending-function.sql).
 */
final class CustomPlanJdbc extends JdbcTemplate {

	CustomPlanJdbc(DataSource dataSource) {
		super(dataSource);
	}

	@Override
	protected void applyStatementSettings(Statement statement) throws SQLException {
		super.applyStatementSettings(statement);
		customPlans(statement);
	}

	/**
	 * Have the driver plan {@code statement} on every execution.
	 * @param statement a statement on the audited database
	 * @throws SQLException when the driver cannot be reached through it
	 */
	static void customPlans(Statement statement) throws SQLException {
		if (statement.isWrapperFor(PGStatement.class)) {
			statement.unwrap(PGStatement.class).setPrepareThreshold(0);
		}
	}

}
