package dev.pgevents;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.pgevents.capture.AuditSchema;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.SingleConnectionDataSource;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The after-commit lookup keeps one plan per connection. A plan made while the audit
 * table is empty must stay cheap once the table has grown: it reads the transaction's
 * rows through the pending index, never the whole table.
 */
class LookupPlanTests {

	@Test
	void aPlanMadeOnAnEmptyTableReadsOnlyTheScopesRowsOnceTheTableHasGrown() {
		SingleConnectionDataSource connection = new SingleConnectionDataSource(TestDatabase.create(), true);
		try {
			JdbcTemplate jdbc = new JdbcTemplate(connection);
			AuditSchema schema = AuditSchema.resolve(jdbc, "keel_audit");
			new TransactionTemplate(new DataSourceTransactionManager(connection))
				.executeWithoutResult((status) -> schema.install(jdbc, List.of()));
			jdbc.execute("VACUUM ANALYZE keel_audit");
			String lookup = "SELECT count(*) FROM keel_audit_pending(gen_random_uuid(), 0, 1000)";
			for (int call = 0; call < 10; call++) {
				// past the plan cache's five custom plans: the generic plan is kept from here on
				jdbc.queryForObject(lookup, Long.class);
			}
			// undispatched rows of other transactions, and of none (written outside the app)
			jdbc.update("INSERT INTO keel_audit (table_name, op, data, scope_id) SELECT 'member', 'created', '{}', "
					+ "CASE WHEN i % 2 = 0 THEN gen_random_uuid() END FROM generate_series(1, 20000) i");
			Map<String, Object> before = tuplesRead(jdbc);
			for (int call = 0; call < 10; call++) {
				assertThat(jdbc.queryForObject(lookup, Long.class)).isZero();
			}
			Map<String, Object> after = tuplesRead(jdbc);
			assertThat((Long) after.get("seq") - (Long) before.get("seq")).as("tuples read by sequential scans")
				.isZero();
			assertThat((Long) after.get("idx") - (Long) before.get("idx")).as("tuples fetched through indexes")
				.isLessThan(100);
		}
		finally {
			connection.destroy();
		}
	}

	private static Map<String, Object> tuplesRead(JdbcTemplate jdbc) {
		jdbc.execute("SELECT pg_stat_force_next_flush()");
		jdbc.execute("SELECT pg_stat_clear_snapshot()");
		return jdbc.queryForMap("SELECT coalesce(seq_tup_read, 0) AS seq, coalesce(idx_tup_fetch, 0) AS idx "
				+ "FROM pg_stat_user_tables WHERE relname = 'keel_audit'");
	}

}
