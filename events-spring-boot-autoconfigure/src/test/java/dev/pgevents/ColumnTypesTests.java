package dev.pgevents;

import java.util.List;
import java.util.Map;

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

/**
 * Columns of every kind reach the events as PostgreSQL's {@code to_jsonb} renders them:
 * names that need quoting, generated columns, enums, composite types, arrays, ranges,
 * {@code bytea}, and values of tens of megabytes.
 */
@WithTestDatabase
@Import(InTransaction.class)
@SpringBootTest(classes = ColumnTypesTests.App.class, properties = { TestApplications.SQL_INIT,
		"spring.sql.init.schema-locations=classpath:column-types-schema.sql" })
class ColumnTypesTests {

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
		this.transactions.executeWithoutResult((status) -> this.jdbc.update("DELETE FROM odd_shapes"));
		this.subscribers.clear();
	}

	@Test
	void everyKindOfColumnIsInTheEventsData() {
		this.db
			.write("INSERT INTO odd_shapes (id, \"Display Name\", \"order-no\", total, feeling, home, tags, valid, payload) "
					+ "VALUES (1, 'Ann', 7, 12.50, 'happy', ROW('Main St', '1000'), ARRAY['a', 'b'], int4range(1, 5), "
					+ "'\\x0102ff'::bytea)");

		assertThat(this.subscribers.events).singleElement().satisfies((event) -> {
			assertThat(event.eventName()).isEqualTo("odd_shapes.created");
			assertThat(event.target().id()).isEqualTo("1");
			Map<String, Object> data = event.target().data();
			assertThat(data).containsEntry("display Name", "Ann")
				.containsEntry("order-no", 7)
				.containsEntry("doubled", 14)
				.containsEntry("feeling", "happy")
				.containsEntry("home", Map.of("street", "Main St", "zip", "1000"))
				.containsEntry("tags", List.of("a", "b"))
				.containsEntry("valid", "[1,5)")
				.containsEntry("payload", "\\x0102ff")
				.containsEntry("body", null);
			assertThat(((Number) data.get("total")).doubleValue()).isEqualTo(12.5);
		});
	}

	@Test
	void anUpdateOfAQuotedColumnChangesItAndTheColumnsGeneratedFromIt() {
		this.db.write("INSERT INTO odd_shapes (id, \"order-no\") VALUES (2, 1)");
		this.subscribers.clear();

		this.db.write("UPDATE odd_shapes SET \"order-no\" = 5 WHERE id = 2");

		assertThat(this.subscribers.events).singleElement().satisfies((event) -> {
			assertThat(event.target().changedFields()).containsExactlyInAnyOrder("order-no", "doubled");
			assertThat(event.target().previousData()).containsEntry("doubled", 2);
			assertThat(event.target().data()).containsEntry("doubled", 10);
		});
	}

	@Test
	void aValueOfTwentyMegabytesIsDelivered() {
		String body = "x".repeat(20 * 1024 * 1024);
		this.db.write("INSERT INTO odd_shapes (id) VALUES (3)");
		this.subscribers.clear();

		this.transactions
			.executeWithoutResult((status) -> this.jdbc.update("UPDATE odd_shapes SET body = ? WHERE id = 3", body));

		assertThat(this.subscribers.events).singleElement().satisfies((event) -> {
			assertThat(event.target().changedFields()).containsExactly("body");
			assertThat(event.target().data().get("body")).isEqualTo(body);
		});
	}

	static class Subscribers extends RecordingSubscriber {

		@EventSubscriber("odd_shapes.*")
		void oddShapes(Event event) {
			record("odd_shapes", event);
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
