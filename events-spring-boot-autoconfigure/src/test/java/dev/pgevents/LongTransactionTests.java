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
		properties = { "spring.sql.init.mode=always", "spring.sql.init.schema-locations=classpath:member-schema.sql",
				"events.relay.lease=1s", "events.relay.poll-interval=50ms", "events.relay.batch-size=50" })
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

	}

}
