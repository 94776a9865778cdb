package dev.pgevents;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Numbers reach the subscriber exactly as stored: money to the last digit, integers
 * beyond a {@code long}, in the event's data and in typed parameters alike.
 */
@WithTestDatabase
@SpringBootTest(classes = ExactValuesTests.App.class,
		properties = { "spring.sql.init.mode=always", "spring.sql.init.schema-locations=classpath:member-schema.sql" })
class ExactValuesTests {

	@Autowired
	JdbcTemplate jdbc;

	@Autowired
	TransactionTemplate transactions;

	@Autowired
	Prices prices;

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

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class App {

		@Bean
		Prices prices() {
			return new Prices();
		}

	}

}
