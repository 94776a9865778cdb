package dev.pgevents;

import org.junit.jupiter.api.Test;

import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DriverManagerDataSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What ordered subscribers need of the schema: the ledger's row key and its index, which
 * a schema installed by an earlier version gains at startup, and the index of an ordered
 * table's undispatched rows, built (again, when a concurrent build left it invalid) or
 * required of migrations.
 */
class OrderedSchemaTests {

	private final String url = TestDatabase.create();

	private final JdbcTemplate jdbc = new JdbcTemplate(new DriverManagerDataSource(this.url));

	private final ApplicationContextRunner runner = TestApplications.runner(this.url).withBean(Ordered.class);

	OrderedSchemaTests() {
		this.jdbc.execute("CREATE TABLE stock (id int PRIMARY KEY, version int NOT NULL)");
	}

	@Test
	void aSchemaOfAnEarlierVersionGainsTheRowKeyAndTheIndexes() {
		this.runner.run((context) -> assertThat(context).hasNotFailed());
		this.jdbc.execute("DROP INDEX keel_audit_delivery_row_idx");
		this.jdbc.execute("ALTER TABLE keel_audit_delivery DROP COLUMN row_key");
		this.jdbc.execute("DROP INDEX " + orderIndex());

		this.runner.run((context) -> assertThat(context).hasNotFailed());

		assertThat(this.jdbc.queryForObject("SELECT count(*) FROM pg_attribute WHERE attrelid = "
				+ "'keel_audit_delivery'::regclass AND attname = 'row_key'", Integer.class))
			.isOne();
		assertThat(this.jdbc.queryForObject("SELECT to_regclass('keel_audit_delivery_row_idx') IS NOT NULL",
				Boolean.class))
			.isTrue();
		assertThat(orderIndexValid()).isTrue();
	}

	@Test
	void anInvalidOrderIndexIsBuiltAgain() {
		this.runner.run((context) -> assertThat(context).hasNotFailed());
		// what a concurrent build that failed leaves behind
		this.jdbc.update("UPDATE pg_index SET indisvalid = false WHERE indexrelid = ?::regclass", orderIndex());

		this.runner.run((context) -> assertThat(context).hasNotFailed());

		assertThat(orderIndexValid()).isTrue();
	}

	@Test
	void migrationsThatLackTheRowKeyFailTheStartupNamingTheScript() {
		this.runner.run((context) -> assertThat(context).hasNotFailed());
		this.jdbc.execute("ALTER TABLE keel_audit_delivery DROP COLUMN row_key CASCADE");

		this.runner.withPropertyValues("events.schema.initialize=never")
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("\"public\".\"keel_audit_delivery\".row_key")
				.hasMessageContaining("delivery-row-key.sql"));
	}

	private String orderIndex() {
		return this.jdbc
			.queryForObject("SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = 'keel_audit'::regclass "
					+ "AND indexrelid::regclass::text LIKE 'keel_audit_order_%'", String.class);
	}

	private Boolean orderIndexValid() {
		return this.jdbc.queryForObject("SELECT indisvalid FROM pg_index WHERE indexrelid = ?::regclass", Boolean.class,
				orderIndex());
	}

	static class Ordered {

		@EventSubscriber(value = "stock.updated", ordered = true)
		void take(Event event) {
		}

	}

}
