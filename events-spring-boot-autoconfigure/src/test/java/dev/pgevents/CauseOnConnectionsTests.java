package dev.pgevents;

import java.sql.Connection;
import java.sql.Statement;

import javax.sql.DataSource;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.pgevents.internal.capture.Causation;
import dev.pgevents.internal.capture.ContextConnections;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.SingleConnectionDataSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The cause of a subscriber's writes made outside a transaction the starter hooks, on the
 * application's proxied connections: recorded, and never left behind on the physical
 * connection for whoever uses it next (one physical connection here, as a pool of one
 * would hand out), whether the writes ran in autocommit mode or in a plain JDBC
 * transaction, committed or rolled back.
 */
class CauseOnConnectionsTests {

	private final SingleConnectionDataSource physical = TestDatabase.withAuditedTables();

	private final DataSource application = ContextConnections.wrap(this.physical);

	private final JdbcTemplate jdbc = new JdbcTemplate(this.physical);

	@AfterEach
	void close() {
		this.physical.destroy();
	}

	@Test
	void anAutocommitWriteRecordsItsCauseAndTheNextUserOfTheConnectionHasNone() throws Exception {
		Causation.during(new Causation.Cause(41, 3), () -> write("INSERT INTO single VALUES (1, 'caused')", true));
		write("INSERT INTO single VALUES (2, 'after')", true);

		assertThat(cause(1)).isEqualTo("41/3");
		assertThat(cause(2)).isEqualTo("null/null");
	}

	@Test
	void aWriteInAPlainTransactionRecordsItsCauseForThatTransactionOnly() throws Exception {
		Causation.during(new Causation.Cause(42, 1), () -> {
			write("INSERT INTO single VALUES (3, 'autocommit first')", true);
			write("INSERT INTO single VALUES (4, 'in a transaction')", false);
		});
		write("INSERT INTO single VALUES (5, 'after')", false);
		write("INSERT INTO single VALUES (6, 'after, autocommit')", true);

		assertThat(cause(3)).isEqualTo("42/1");
		assertThat(cause(4)).isEqualTo("42/1");
		assertThat(cause(5)).isEqualTo("null/null");
		assertThat(cause(6)).isEqualTo("null/null");
	}

	@Test
	void aRolledBackTransactionLeavesNoCauseBehind() throws Exception {
		Causation.during(new Causation.Cause(43, 2), () -> {
			try (Connection connection = this.application.getConnection();
					Statement statement = connection.createStatement()) {
				statement.execute("INSERT INTO single VALUES (7, 'kept')");
				connection.setAutoCommit(false);
				statement.execute("INSERT INTO single VALUES (8, 'rolled back')");
				connection.rollback();
				connection.setAutoCommit(true);
			}
		});
		write("INSERT INTO single VALUES (9, 'after')", true);

		assertThat(cause(7)).isEqualTo("43/2");
		assertThat(cause(9)).isEqualTo("null/null");
	}

	@Test
	void aConnectionClosedInTheMiddleOfATransactionLeavesNoCauseBehindOnceThePoolRollsItBack() throws Exception {
		Causation.during(new Causation.Cause(44, 1), () -> {
			try (Connection connection = this.application.getConnection();
					Statement statement = connection.createStatement()) {
				statement.execute("INSERT INTO single VALUES (10, 'autocommit')");
				connection.setAutoCommit(false);
				statement.execute("INSERT INTO single VALUES (11, 'never committed')");
			}
		});
		// what a pool does with a connection returned in a transaction
		Connection returned = this.physical.getConnection();
		returned.rollback();
		returned.setAutoCommit(true);
		write("INSERT INTO single VALUES (12, 'next user')", true);

		assertThat(cause(10)).isEqualTo("44/1");
		assertThat(cause(12)).isEqualTo("null/null");
	}

	private void write(String sql, boolean autoCommit) throws Exception {
		try (Connection connection = this.application.getConnection()) {
			connection.setAutoCommit(autoCommit);
			try (Statement statement = connection.createStatement()) {
				statement.execute(sql);
			}
			if (!autoCommit) {
				connection.commit();
				connection.setAutoCommit(true);
			}
		}
	}

	private String cause(long id) {
		return this.jdbc.queryForObject(
				"SELECT coalesce(caused_by::text, 'null') || '/' || coalesce(chain_depth::text, 'null') "
						+ "FROM keel_audit WHERE table_name = 'single' AND data ->> 'id' = ?",
				String.class, Long.toString(id));
	}

}
