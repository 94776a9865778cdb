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
 * Tables outside the application's schema are events named with their schema, so that two
 * tables of one name in two schemas never pass for each other, whatever the writer's
 * search_path.
 */
@WithTestDatabase
@Import(InTransaction.class)
@SpringBootTest(classes = SchemaQualifiedTablesTests.App.class,
		properties = { TestApplications.SQL_INIT, "spring.sql.init.schema-locations=classpath:schemas-schema.sql",
				"events.audit.tables=public.invoice,billing.payment",
				"events.audit.exclude-columns=billing.payment.card_number" })
class SchemaQualifiedTablesTests {

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
		this.transactions.executeWithoutResult(
				(status) -> this.jdbc.execute("TRUNCATE invoice, billing.invoice, billing.payment, billing.ledger"));
		this.subscribers.clear();
	}

	@Test
	void twoTablesOfOneNameInTwoSchemasAreEventsOfTheirOwn() {
		this.db.write("INSERT INTO invoice VALUES (1, 10)");
		this.db.write("INSERT INTO billing.invoice VALUES ('B-1', 20)");
		// the writer's search_path does not change the name
		this.db.write("SET LOCAL search_path = billing, public", "UPDATE invoice SET total = 21");

		assertThat(this.subscribers.of("public")).extracting(SchemaQualifiedTablesTests::describe)
			.containsExactly("invoice.created 1 10");
		assertThat(this.subscribers.of("billing")).extracting(SchemaQualifiedTablesTests::describe)
			.containsExactly("billing.invoice.created B-1 20", "billing.invoice.updated B-1 20->21");
		assertThat(this.subscribers.events).extracting((event) -> event.target().type()).containsOnly("Invoice");
	}

	@Test
	void aWriteOutsideTheApplicationIsDeliveredByTheRelayUnderTheQualifiedName() {
		this.jdbc.update("INSERT INTO billing.invoice VALUES ('B-2', 30)");

		await().atMost(Duration.ofSeconds(30))
			.untilAsserted(
					() -> assertThat(this.subscribers.of("billing")).extracting(SchemaQualifiedTablesTests::describe)
						.containsExactly("billing.invoice.created B-2 30"));
		assertThat(this.subscribers.of("public")).isEmpty();
	}

	@Test
	void aPartitionedTableOfAnotherSchemaIsNamedWithItsSchemaWhenItsPartitionIsWritten() {
		this.db.write("INSERT INTO billing.ledger_main VALUES (1, 'main', 5)");

		assertThat(this.subscribers.of("ledger")).extracting((event) -> event.eventName() + " " + event.target().id())
			.containsExactly("billing.ledger.created 1,main");
	}

	@Test
	void anOperationPatternCoversTheAuditedTablesOfEverySchema() {
		this.db.write("INSERT INTO invoice VALUES (2, 1)", "INSERT INTO billing.invoice VALUES ('B-3', 1)",
				"INSERT INTO billing.payment VALUES (7, 1, '4111111111111111')",
				"INSERT INTO billing.ledger VALUES (2, 'main', 1)");
		this.db.write("DELETE FROM invoice", "DELETE FROM billing.invoice", "DELETE FROM billing.payment",
				"DELETE FROM billing.ledger");

		assertThat(this.subscribers.of("deleted")).extracting((event) -> event.eventName() + " " + event.target().id())
			.containsExactlyInAnyOrder("invoice.deleted 2", "billing.invoice.deleted B-3", "billing.payment.deleted 7",
					"billing.ledger.deleted 2,main");
		// a table.column entry names the table as its events do
		assertThat(this.subscribers.of("deleted"))
			.filteredOn((event) -> event.eventName().startsWith("billing.payment"))
			.singleElement()
			.satisfies((event) -> assertThat(event.target().data()).containsOnlyKeys("id", "amount"));
	}

	private static String describe(Event event) {
		return RecordingSubscriber.describe(event, "total");
	}

	static class Subscribers extends RecordingSubscriber {

		@EventSubscriber("invoice.*")
		void publicInvoices(Event event) {
			record("public", event);
		}

		@EventSubscriber("billing.invoice.*")
		void billingInvoices(Event event) {
			record("billing", event);
		}

		@EventSubscriber("billing.ledger.created")
		void ledger(Event event) {
			record("ledger", event);
		}

		@EventSubscriber("*.deleted")
		void deleted(Event event) {
			record("deleted", event);
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
