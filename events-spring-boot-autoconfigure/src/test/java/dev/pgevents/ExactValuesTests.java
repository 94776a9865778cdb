package dev.pgevents;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Values reach the subscriber exactly as stored: money to the last digit, integers beyond
 * a {@code long}, in the event's data and in typed parameters alike, and values as large
 * or as deeply nested as PostgreSQL keeps them. A row that cannot be read as an event is
 * dead-lettered with the reason, and the rows after it flow.
 */
@WithTestDatabase
@SpringBootTest(classes = ExactValuesTests.App.class,
		properties = { TestApplications.SQL_INIT, TestApplications.MEMBER_SCHEMA, "events.relay.poll-interval=100ms" })
class ExactValuesTests {

	@Autowired
	JdbcTemplate jdbc;

	@Autowired
	TransactionTemplate transactions;

	@Autowired
	Prices prices;

	@Autowired
	Documents documents;

	@Test
	void moneyAndLargeIntegersArriveToTheLastDigit() {
		this.transactions.executeWithoutResult((status) -> this.jdbc.update("INSERT INTO price VALUES (1, "
				+ "12345678901234567.89, 1234567890123456789012345678901234567890, 0.1)"));

		assertThat(this.prices.events).hasSize(1);
		assertThat(this.prices.events.get(0).target().data())
			.containsEntry("amount", new BigDecimal("12345678901234567.89"))
			.containsEntry("units", new BigInteger("1234567890123456789012345678901234567890"));
		Price price = this.prices.bound.get(0);
		assertThat(price.amount()).isEqualByComparingTo("12345678901234567.89");
		assertThat(price.amount().scale()).isEqualTo(2);
		assertThat(price.units()).isEqualTo(new BigInteger("1234567890123456789012345678901234567890"));
		assertThat(price.ratio()).isEqualTo(0.1);
	}

	@Test
	void valuesBeyondTheJsonReadersDefaultLimitsArriveWhole() {
		String digits = "9".repeat(1100);
		int depth = 5000;
		// outside the application: the relay delivers them
		this.jdbc.update("INSERT INTO document VALUES (1, " + digits + ".5, (repeat('[', " + depth + ") || repeat(']', "
				+ depth + "))::jsonb)");

		Map<String, Object> data = await().atMost(Duration.ofSeconds(30))
			.until(() -> this.documents.find("1"), Objects::nonNull)
			.target()
			.data();
		assertThat(data.get("big")).isEqualTo(new BigDecimal(digits + ".5"));
		Object body = data.get("body");
		int nested = 0;
		while (body instanceof List<?> list) {
			nested++;
			body = list.isEmpty() ? null : list.get(0);
		}
		assertThat(nested).isEqualTo(depth);
	}

	@Test
	void aRowThatCannotBeReadAsAnEventIsDeadLetteredAndTheRowsAfterItFlow() {
		// a row no trigger writes (its data is not an object): put there by hand, or by
		// something else
		Long unreadable = this.jdbc.queryForObject(
				"INSERT INTO keel_audit (table_name, op, data) VALUES ('document', 'created', '[1]') RETURNING id",
				Long.class);
		this.jdbc.update("INSERT INTO document VALUES (2, 1, '{}')");

		await().atMost(Duration.ofSeconds(30)).until(() -> this.documents.find("2"), Objects::nonNull);
		assertThat(this.jdbc.queryForMap("SELECT status, last_error FROM keel_audit_delivery WHERE audit_id = ?",
				unreadable))
			.containsEntry("status", "dead")
			.hasEntrySatisfying("last_error",
					(error) -> assertThat(error).asString()
						.startsWith("The audit row cannot be read as an event: ")
						.contains("Map"));
		assertThat(this.jdbc.queryForObject("SELECT count(*) FROM keel_audit WHERE event_processed_at IS NULL",
				Integer.class))
			.isZero();
	}

	record Price(long id, BigDecimal amount, BigInteger units, double ratio) {
	}

	static class Prices {

		final List<Event> events = new CopyOnWriteArrayList<>();

		final List<Price> bound = new CopyOnWriteArrayList<>();

		@EventSubscriber("price.created")
		void created(Price price, Event event) {
			this.bound.add(price);
			this.events.add(event);
		}

	}

	static class Documents {

		final List<Event> events = new CopyOnWriteArrayList<>();

		@EventSubscriber("document.created")
		void documentCreated(Event event) {
			this.events.add(event);
		}

		@Nullable Event find(String id) {
			return this.events.stream().filter((event) -> event.target().id().equals(id)).findFirst().orElse(null);
		}

	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class App {

		@Bean
		Documents documents() {
			return new Documents();
		}

		@Bean
		Prices prices() {
			return new Prices();
		}

	}

}
