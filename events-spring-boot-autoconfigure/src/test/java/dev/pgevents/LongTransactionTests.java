package dev.pgevents;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A transaction that stays open for longer than the lease: once it commits, the relay
 * (which may take over rows older than the lease) and the after-commit dispatch both go
 * for its rows, and each row is delivered once; also when the transaction is an
 * instance's without a relay, and the relay another instance's.
 */
@WithTestDatabase
@SpringBootTest(classes = LongTransactionTests.App.class,
		properties = { TestApplications.SQL_INIT, TestApplications.MEMBER_SCHEMA, "events.relay.lease=1s",
				"events.relay.poll-interval=50ms", "events.relay.batch-size=50" })
class LongTransactionTests {

	@Autowired
	JdbcTemplate jdbc;

	@Autowired
	TransactionTemplate transactions;

	@Autowired
	MemberDeliveries members;

	@Test
	void aTransactionOpenLongerThanTheLeaseIsDeliveredOncePerRow() {
		this.transactions.executeWithoutResult((status) -> {
			for (int i = 0; i < 1000; i++) {
				this.jdbc.update("INSERT INTO member (name, email) VALUES ('long', 'long')");
			}
			// a batch job's transaction: its first rows are well past the lease at commit
			hold(Duration.ofMillis(2500));
		});

		await().atMost(Duration.ofSeconds(30)).until(() -> this.members.deliveries.size() == 1000);
		await().atMost(Duration.ofSeconds(30))
			.until(() -> this.jdbc.queryForObject("SELECT count(*) FROM keel_audit WHERE event_processed_at IS NULL",
					Integer.class) == 0);
		assertThat(this.members.deliveries.values()).extracting(AtomicInteger::get).containsOnly(1);
	}

	@Test
	void aTransactionOfAnInstanceWithoutARelayIsNotRacedByAnotherInstancesRelay() {
		// the same subscriber in an instance without a relay (a web tier) and in this one
		String url = this.jdbc.execute((java.sql.Connection connection) -> connection.getMetaData().getURL());
		try (ConfigurableApplicationContext web = new SpringApplicationBuilder(App.class)
			.properties("spring.datasource.url=" + url, "spring.main.banner-mode=off", "events.relay.enabled=false",
					"events.relay.lease=1s")
			.run()) {
			MemberDeliveries webMembers = web.getBean(MemberDeliveries.class);
			JdbcTemplate webJdbc = web.getBean(JdbcTemplate.class);
			web.getBean(TransactionTemplate.class).executeWithoutResult((status) -> {
				for (int i = 0; i < 1000; i++) {
					webJdbc.update("INSERT INTO member (name, email) VALUES ('web', 'web')");
				}
				hold(Duration.ofMillis(2500));
			});

			await().atMost(Duration.ofSeconds(30))
				.until(() -> this.jdbc.queryForObject(
						"SELECT count(*) FROM keel_audit WHERE event_processed_at IS NULL", Integer.class) == 0);
			Map<UUID, Integer> deliveries = new HashMap<>();
			webMembers.deliveries.forEach((id, count) -> deliveries.merge(id, count.get(), Integer::sum));
			this.members.deliveries.forEach((id, count) -> {
				if (webMembers.deliveries.containsKey(id) || deliveries.containsKey(id)) {
					deliveries.merge(id, count.get(), Integer::sum);
				}
			});
			assertThat(deliveries).hasSize(1000);
			assertThat(deliveries.values()).as("deliveries per row, both instances together").containsOnly(1);
			assertThat(webMembers.deliveries).as("delivered by the instance that committed").hasSize(1000);
		}
	}

	@Test
	void anInstanceWithoutARelayHandsWhatItCannotDispatchToAnotherInstancesRelay() {
		String url = this.jdbc.execute((java.sql.Connection connection) -> connection.getMetaData().getURL());
		// one dispatch thread, a queue of one, a slow subscriber: most transactions find
		// the queue full, and their rows are given up
		try (ConfigurableApplicationContext web = new SpringApplicationBuilder(App.class)
			.properties("spring.datasource.url=" + url, "spring.main.banner-mode=off", "events.relay.enabled=false",
					"events.relay.lease=1s", "events.dispatch.mode=async", "events.dispatch.threads=1",
					"events.dispatch.queue-capacity=1", "test.slow-ms=100")
			.run()) {
			MemberDeliveries webMembers = web.getBean(MemberDeliveries.class);
			JdbcTemplate webJdbc = web.getBean(JdbcTemplate.class);
			TransactionTemplate webTransactions = web.getBean(TransactionTemplate.class);
			for (int i = 0; i < 20; i++) {
				webTransactions.executeWithoutResult(
						(status) -> webJdbc.update("INSERT INTO member (name, email) VALUES ('given', 'up')"));
			}

			// while the instance runs: handed to this instance's relay at its next beat
			await().atMost(Duration.ofSeconds(30))
				.until(() -> this.jdbc
					.queryForObject("SELECT count(*) FROM keel_audit WHERE event_processed_at IS NULL "
							+ "AND data->>'name' = 'given'", Integer.class) == 0);
			assertThat(web.isRunning()).isTrue();
			Map<UUID, Integer> deliveries = new HashMap<>();
			webMembers.deliveries.forEach((id, count) -> deliveries.merge(id, count.get(), Integer::sum));
			int handedOver = 0;
			for (Map.Entry<UUID, AtomicInteger> delivered : this.members.deliveries.entrySet()) {
				if (this.jdbc.queryForObject("SELECT count(*) FROM member WHERE id = ? AND name = 'given'",
						Integer.class, delivered.getKey()) == 1) {
					deliveries.merge(delivered.getKey(), delivered.getValue().get(), Integer::sum);
					handedOver++;
				}
			}
			assertThat(deliveries).hasSize(20);
			assertThat(deliveries.values()).as("deliveries per row, both instances together").containsOnly(1);
			assertThat(handedOver).as("rows delivered by this instance's relay").isPositive();
		}
	}

	private static void hold(Duration duration) {
		try {
			Thread.sleep(duration.toMillis());
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class App {

		@Bean
		MemberDeliveries members() {
			return new MemberDeliveries();
		}

		@Bean
		Slow slow(org.springframework.core.env.Environment environment) {
			return new Slow(environment.getProperty("test.slow-ms", Long.class, 0L));
		}

	}

	/** A subscriber of {@code member.created} that takes its time. */
	static class Slow {

		private final long millis;

		Slow(long millis) {
			this.millis = millis;
		}

		@EventSubscriber("member.created")
		void slowly(Event event) throws InterruptedException {
			Thread.sleep(this.millis);
		}

	}

}
