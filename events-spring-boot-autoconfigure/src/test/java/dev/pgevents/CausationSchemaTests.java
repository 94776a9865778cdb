package dev.pgevents;

import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

import org.junit.jupiter.api.Test;

import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DriverManagerDataSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The audit table's causation columns: an audit table of an earlier version, with rows
 * still undelivered, gains them at startup and its rows are delivered; migrations that
 * lack them fail the startup naming the script.
 */
class CausationSchemaTests {

	private final String url = TestDatabase.create();

	private final JdbcTemplate jdbc = new JdbcTemplate(new DriverManagerDataSource(this.url));

	private final ApplicationContextRunner runner = TestApplications.runner(this.url)
		.withPropertyValues("events.relay.poll-interval=200ms")
		.withBean(Received.class);

	CausationSchemaTests() {
		this.jdbc.execute("CREATE TABLE stock (id int PRIMARY KEY, version int NOT NULL)");
	}

	@Test
	void anAuditTableOfAnEarlierVersionGainsTheColumnsAndItsUndeliveredRowsAreDelivered() {
		this.runner.run((context) -> assertThat(context).hasNotFailed());
		// what an earlier version left: no causation columns, rows not yet delivered
		this.jdbc.execute("ALTER TABLE keel_audit DROP COLUMN caused_by, DROP COLUMN chain_depth");
		this.jdbc.update("INSERT INTO keel_audit (table_name, op, data) VALUES ('stock', 'created', "
				+ "'{\"id\": 1, \"version\": 1}'), ('stock', 'created', '{\"id\": 2, \"version\": 1}')");

		this.runner.run((context) -> {
			assertThat(context).hasNotFailed();
			Received received = context.getBean(Received.class);
			await().atMost(Duration.ofSeconds(30)).until(() -> received.events.size() == 2);
			this.jdbc.update("INSERT INTO stock VALUES (3, 1)");
			await().atMost(Duration.ofSeconds(30)).until(() -> received.events.size() == 3);
			assertThat(received.events).extracting(Event::causedBy).containsOnlyNulls();
		});
		assertThat(this.jdbc.queryForList(
				"SELECT attname::text FROM pg_attribute WHERE attrelid = "
						+ "'keel_audit'::regclass AND attname IN ('caused_by', 'chain_depth') ORDER BY 1",
				String.class))
			.isEqualTo(List.of("caused_by", "chain_depth"));
	}

	@Test
	void migrationsThatLackTheColumnsFailTheStartupNamingTheScript() {
		this.runner.run((context) -> assertThat(context).hasNotFailed());
		this.jdbc.execute("ALTER TABLE keel_audit DROP COLUMN caused_by, DROP COLUMN chain_depth");

		this.runner.withPropertyValues("events.schema.initialize=never")
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("\"public\".\"keel_audit\".caused_by")
				.hasMessageContaining("audit-causation.sql"));
	}

	static class Received {

		final Queue<Event> events = new ConcurrentLinkedQueue<>();

		@EventSubscriber("stock.created")
		void take(Event event) {
			this.events.add(event);
		}

	}

}
