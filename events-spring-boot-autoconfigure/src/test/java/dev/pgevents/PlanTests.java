package dev.pgevents;

import java.sql.SQLWarning;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.SingleConnectionDataSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The plans of the statements that run for every transaction or every row keep their cost
 * in proportion to the work.
 */
class PlanTests {

	/**
	 * The after-commit lookup keeps one plan per connection. A plan made while the audit
	 * table is empty must stay cheap once the table has grown: it reads the transaction's
	 * rows through the pending index, never the whole table.
	 */

	@Test
	void aPlanMadeOnAnEmptyTableReadsOnlyTheScopesRowsOnceTheTableHasGrown() {
		SingleConnectionDataSource connection = TestDatabase.withAuditedTables();
		try {
			JdbcTemplate jdbc = new JdbcTemplate(connection);
			jdbc.execute("VACUUM ANALYZE keel_audit");
			String lookup = "SELECT count(*) FROM keel_audit_pending(gen_random_uuid(), 0, 1000)";
			for (int call = 0; call < 10; call++) {
				// past the plan cache's five custom plans: the generic plan is kept from
				// here on
				jdbc.queryForObject(lookup, Long.class);
			}
			// undispatched rows of other transactions, and of none (written outside the
			// app)
			jdbc.update("INSERT INTO keel_audit (table_name, op, data, scope_id) SELECT 'member', 'created', '{}', "
					+ "CASE WHEN i % 2 = 0 THEN gen_random_uuid() END FROM generate_series(1, 20000) i");
			Map<String, Object> before = TestDatabase.auditTuplesRead(jdbc);
			for (int call = 0; call < 10; call++) {
				assertThat(jdbc.queryForObject(lookup, Long.class)).isZero();
			}
			Map<String, Object> after = TestDatabase.auditTuplesRead(jdbc);
			assertThat((Long) after.get("seq") - (Long) before.get("seq")).as("tuples read by sequential scans")
				.isZero();
			assertThat((Long) after.get("idx") - (Long) before.get("idx")).as("tuples fetched through indexes")
				.isLessThan(100);
		}
		finally {
			connection.destroy();
		}
	}

	/**
	 * The capture trigger pairs each NEW row of an UPDATE with its OLD row by key. The
	 * planner takes that join for a many-to-many one; it must still hash both sides (not
	 * sort them on jsonb, nor compare every pair of rows, as it did for composite keys),
	 * and never compile it with JIT. It turns merge joins and JIT off for that statement
	 * only: the writing transaction finds its settings as they were.
	 */
	@Test
	void aBulkUpdatePairsOldAndNewRowsWithAHashJoinForSingleAndCompositeKeys() {
		SingleConnectionDataSource connection = TestDatabase.withAuditedTables();
		try {
			JdbcTemplate jdbc = new JdbcTemplate(connection);
			jdbc.update("INSERT INTO single SELECT i, 'v' FROM generate_series(1, 5000) i");
			jdbc.update("INSERT INTO pair SELECT i % 100, i, 'v' FROM generate_series(1, 5000) i");
			jdbc.execute("LOAD 'auto_explain'");
			jdbc.execute("SET auto_explain.log_min_duration = 0");
			jdbc.execute("SET auto_explain.log_nested_statements = on");
			jdbc.execute("SET auto_explain.log_level = notice");
			jdbc.execute("SET jit_above_cost = 0"); // JIT wherever it is allowed
			jdbc.execute("SET jit = on");
			jdbc.execute("SET enable_mergejoin = on");

			for (String table : List.of("single", "pair")) {
				String plan = nestedPlans(jdbc, "UPDATE " + table + " SET v = v || 'x'").stream()
					.filter((notice) -> notice.contains("INSERT INTO"))
					.findFirst()
					.orElseThrow();
				assertThat(plan).as(table).contains("Hash Left Join").doesNotContain("Nested Loop", "Merge", "JIT");
				assertThat(jdbc.queryForObject("SELECT count(*) FROM keel_audit WHERE table_name = ? AND op = 'updated'"
						+ " AND previous_data ->> 'v' = 'v' AND data ->> 'v' = 'vx'", Long.class, table))
					.as(table)
					.isEqualTo(5000);
				assertThat(jdbc.queryForList(
						"SELECT current_setting('enable_mergejoin') UNION ALL " + "SELECT current_setting('jit')",
						String.class))
					.as("the session's settings after the update")
					.containsExactly("on", "on");
			}
		}
		finally {
			connection.destroy();
		}
	}

	private static List<String> nestedPlans(JdbcTemplate jdbc, String sql) {
		return jdbc.execute((Statement statement) -> {
			statement.execute(sql);
			List<String> notices = new ArrayList<>();
			for (SQLWarning notice = statement.getWarnings(); notice != null; notice = notice.getNextWarning()) {
				notices.add(notice.getMessage());
			}
			return notices;
		});
	}

}
