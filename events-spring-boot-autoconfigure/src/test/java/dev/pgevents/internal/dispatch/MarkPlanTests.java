package dev.pgevents.internal.dispatch;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.LongStream;

import org.junit.jupiter.api.Test;

import dev.pgevents.TestDatabase;
import dev.pgevents.internal.capture.AuditSchema;
import dev.pgevents.internal.capture.OwnTransactions;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.SingleConnectionDataSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The dispatch's marks keep one plan per connection, whatever the number of rows they
 * mark: a plan made while the audit table is empty must still mark rows by primary key
 * once the table has grown.
 */
class MarkPlanTests {

	@Test
	void aMarkPlanMadeOnAnEmptyTableReadsOnlyTheMarkedRowsOnceTheTableHasGrown() {
		SingleConnectionDataSource connection = TestDatabase.withAuditedTables();
		try {
			JdbcTemplate jdbc = new JdbcTemplate(connection);
			DeliveryLedger ledger = ledger(connection);
			jdbc.execute("VACUUM ANALYZE keel_audit");
			for (int call = 0; call < 10; call++) {
				// past the plan cache's five custom plans: the generic plan is kept from
				// here on
				ledger.recordAlone(outcomes(LongStream.rangeClosed(1, 10)));
			}
			jdbc.update("INSERT INTO keel_audit (table_name, op, data) SELECT 'single', 'created', '{}' "
					+ "FROM generate_series(1, 20000)");
			long first = jdbc.queryForObject("SELECT min(id) FROM keel_audit", Long.class);
			Map<String, Object> before = TestDatabase.auditTuplesRead(jdbc);
			for (int call = 0; call < 10; call++) {
				ledger.recordAlone(outcomes(LongStream.range(first + call * 10, first + call * 10 + 10)));
			}
			Map<String, Object> after = TestDatabase.auditTuplesRead(jdbc);
			assertThat(jdbc.queryForObject("SELECT count(*) FROM keel_audit WHERE event_processed_at IS NOT NULL",
					Long.class))
				.isEqualTo(100);
			assertThat((Long) after.get("seq") - (Long) before.get("seq")).as("tuples read by sequential scans")
				.isZero();
			assertThat((Long) after.get("idx") - (Long) before.get("idx")).as("tuples fetched through indexes")
				.isLessThan(1000);
		}
		finally {
			connection.destroy();
		}
	}

	@Test
	void marksOfOneRowEachArePlannedOncePerConnection() {
		SingleConnectionDataSource connection = TestDatabase.withAuditedTables();
		try {
			JdbcTemplate jdbc = new JdbcTemplate(connection);
			DeliveryLedger ledger = ledger(connection);
			jdbc.update("INSERT INTO keel_audit (table_name, op, data) SELECT 'single', 'created', '{}' "
					+ "FROM generate_series(1, 30)");
			jdbc.execute("VACUUM ANALYZE keel_audit");
			long first = jdbc.queryForObject("SELECT min(id) FROM keel_audit", Long.class);
			for (long id = first; id < first + 30; id++) {
				// as under light load: each transaction's outcome written alone
				ledger.recordAlone(outcomes(LongStream.of(id)));
			}
			assertThat(jdbc.queryForObject("SELECT count(*) FROM keel_audit WHERE event_processed_at IS NOT NULL",
					Long.class))
				.isEqualTo(30);
			// the driver prepares the statement on the server from its fifth execution
			Map<String, Object> plans = jdbc.queryForMap("SELECT coalesce(sum(generic_plans), 0) AS generic, "
					+ "coalesce(sum(custom_plans), 0) AS custom FROM pg_prepared_statements "
					+ "WHERE statement LIKE '%WITH marked AS%'");
			assertThat(((Number) plans.get("custom")).longValue()).as("custom plans").isZero();
			assertThat(((Number) plans.get("generic")).longValue()).as("executions of the generic plan")
				.isGreaterThanOrEqualTo(20);
		}
		finally {
			connection.destroy();
		}
	}

	private static DeliveryLedger ledger(SingleConnectionDataSource connection) {
		return new DeliveryLedger(new OwnTransactions(connection), AuditSchema.of("public.keel_audit", "public"),
				List.of("audit"), Duration.ofMinutes(1), "x.table_name", Duration.ofSeconds(30));
	}

	private static List<DeliveryLedger.Outcome> outcomes(LongStream ids) {
		return ids.mapToObj((id) -> new DeliveryLedger.Outcome(id, List.of())).toList();
	}

}
