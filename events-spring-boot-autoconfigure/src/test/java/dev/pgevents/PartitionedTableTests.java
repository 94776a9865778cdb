package dev.pgevents;

import java.time.Duration;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A partitioned table's changes are events named after it, whether a statement names the
 * table or one of its partitions, those created after startup included.
 */
@WithTestDatabase
@Import(InTransaction.class)
@SpringBootTest(classes = PartitionedTableTests.App.class,
		properties = { TestApplications.SQL_INIT, "spring.sql.init.schema-locations=classpath:partitioned-schema.sql" })
class PartitionedTableTests {

	@Autowired
	JdbcTemplate jdbc;

	@Autowired
	TransactionTemplate transactions;

	@Autowired
	InTransaction db;

	@Autowired
	Subscribers subscribers;

	@BeforeEach
	void clear() {
		this.transactions.executeWithoutResult((status) -> this.jdbc.update("DELETE FROM orders"));
		this.subscribers.clear();
	}

	@Test
	void writesThroughTheTableAndOnAPartitionAreEventsOfTheTable() {
		this.db.write("INSERT INTO orders VALUES (1, 'eu', 'new'), (2, 'us', 'new')");
		this.db.write("INSERT INTO orders_eu VALUES (3, 'eu', 'new')");

		assertThat(this.subscribers.of("orders")).extracting(PartitionedTableTests::describe)
			.containsExactly("orders.created 1,eu new", "orders.created 2,us new", "orders.created 3,eu new");
	}

	@Test
	void updatesAreUpdatedEventsAndAMoveToAnotherPartitionIsADeleteAndACreate() {
		this.db.write("INSERT INTO orders VALUES (1, 'eu', 'new'), (2, 'eu', 'new')");
		this.subscribers.clear();

		this.db.write("UPDATE orders_eu SET status = 'paid' WHERE id = 1");
		this.db.write("UPDATE orders SET status = status WHERE id = 1");
		this.db.write("UPDATE orders SET region = 'us' WHERE id = 2");

		assertThat(this.subscribers.of("orders")).extracting(PartitionedTableTests::describe)
			.containsExactly("orders.updated 1,eu new->paid", "orders.deleted 2,eu new", "orders.created 2,us new");
	}

	@Test
	void aPartitionCreatedAfterStartupIsCapturedToo() {
		this.jdbc.execute("CREATE TABLE IF NOT EXISTS orders_asia PARTITION OF orders FOR VALUES IN ('asia')");

		this.db.write("INSERT INTO orders_asia VALUES (4, 'asia', 'new')");
		// written outside the application: the relay delivers it
		this.jdbc.update("DELETE FROM orders_asia WHERE id = 4");

		await().atMost(Duration.ofSeconds(30))
			.untilAsserted(() -> assertThat(this.subscribers.of("orders")).extracting(PartitionedTableTests::describe)
				.containsExactly("orders.created 4,asia new", "orders.deleted 4,asia new"));
	}

	@Test
	void aTruncateOfTheTableIsOneTruncatedEvent() {
		this.db.write("INSERT INTO orders VALUES (1, 'eu', 'new'), (2, 'us', 'new')");
		this.subscribers.clear();

		this.db.write("TRUNCATE orders");

		assertThat(this.subscribers.of("truncated")).extracting(Event::eventName).containsExactly("orders.truncated");
	}

	private static String describe(Event event) {
		return RecordingSubscriber.describe(event, "status");
	}

	static class Subscribers extends RecordingSubscriber {

		@EventSubscriber("orders.*")
		void orders(Event event) {
			record("orders", event);
		}

		@EventSubscriber("orders.truncated")
		void truncated(Event event) {
			record("truncated", event);
		}

	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class App {

		@Bean
		Subscribers subscribers() {
			return new Subscribers();
		}

	}

}
