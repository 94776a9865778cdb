package dev.pgevents;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * An instance that stalls past its lease loses its rows to another instance, and when it
 * wakes it cannot overwrite what that instance recorded: an audit row's failures are
 * recorded only by the statement that marks it processed, and a ledger entry's outcome
 * only under the lease token of the claim it belongs to.
 */
class FencingTests {

	static final Map<String, AtomicInteger> deliveries = new ConcurrentHashMap<>();

	static volatile CountDownLatch stalled = new CountDownLatch(1);

	static volatile CountDownLatch release = new CountDownLatch(1);

	final List<ConfigurableApplicationContext> instances = new ArrayList<>();

	String url;

	@BeforeEach
	void database() {
		this.url = TestDatabase.create();
		deliveries.clear();
		release = new CountDownLatch(1);
		stalled = new CountDownLatch(1);
	}

	@AfterEach
	void stop() {
		release.countDown();
		this.instances.forEach(ConfigurableApplicationContext::close);
	}

	@Test
	void aStalledAfterCommitDispatchIsTakenOverAndCannotRecordItsFailureWhenItWakes() throws Exception {
		// its own relay is off, so the instance that takes over is the other one
		ConfigurableApplicationContext stalling = start("test.stall=true", "events.dispatch.mode=async",
				"events.relay.enabled=false");
		JdbcTemplate jdbc = stalling.getBean(JdbcTemplate.class);
		stalling.getBean(TransactionTemplate.class)
			.executeWithoutResult((status) -> jdbc.update("INSERT INTO member (name, email) VALUES ('s', 's')"));
		assertThat(stalled.await(10, TimeUnit.SECONDS)).isTrue();

		// its relay takes the row over once the lease expired
		JdbcTemplate other = start("test.stall=false").getBean(JdbcTemplate.class);

		await().atMost(Duration.ofSeconds(20))
			.untilAsserted(() -> assertThat(
					jdbc.queryForObject("SELECT event_processed_at IS NOT NULL FROM keel_audit", Boolean.class))
				.isTrue());
		release.countDown(); // the stalled instance wakes, and its subscriber fails
		stalling.close(); // waits for its dispatch to finish and its ledger writer to
							// write

		assertThat(deliveries.get("stalling")).hasValue(1);
		assertThat(other.queryForObject("SELECT count(*) FROM keel_audit_delivery", Integer.class)).isZero();
		assertThat(deliveries.get("healthy")).hasValue(1);
		System.out.println("Fencing: event delivered by the taking-over instance once, and "
				+ deliveries.get("stalling") + " time(s) by the stalled one (a duplicate at-least-once allows)");
	}

	@Test
	void aStalledRetryIsTakenOverAndCannotOverwriteTheDeliveryWhenItWakes() throws Exception {
		ConfigurableApplicationContext stalling = start("test.stall=retry", "events.retry.initial-delay=10ms");
		JdbcTemplate jdbc = stalling.getBean(JdbcTemplate.class);
		stalling.getBean(TransactionTemplate.class)
			.executeWithoutResult((status) -> jdbc.update("INSERT INTO member (name, email) VALUES ('s', 's')"));
		// the first attempt failed after commit; the relay's retry stalls
		assertThat(stalled.await(10, TimeUnit.SECONDS)).isTrue();

		JdbcTemplate other = start("test.stall=false").getBean(JdbcTemplate.class);

		await().atMost(Duration.ofSeconds(20))
			.untilAsserted(
					() -> assertThat(other.queryForMap("SELECT status, attempts, lease_token FROM keel_audit_delivery"))
						.containsEntry("status", "delivered")
						.containsEntry("attempts", 2)
						.containsEntry("lease_token", 2));
		release.countDown(); // the stalled retry wakes, and fails
		stalling.close();

		assertThat(deliveries.get("stalling")).hasValue(1);
		assertThat(other.queryForMap("SELECT status, attempts, lease_token, last_error FROM keel_audit_delivery"))
			.containsEntry("status", "delivered")
			.containsEntry("attempts", 2)
			.containsEntry("lease_token", 2);
	}

	private ConfigurableApplicationContext start(String... properties) {
		ConfigurableApplicationContext context = new SpringApplicationBuilder(App.class)
			.properties("spring.datasource.url=" + this.url, "spring.sql.init.mode=always",
					"spring.sql.init.schema-locations=classpath:member-schema.sql", "events.relay.poll-interval=100ms",
					"events.relay.lease=1s", "spring.main.banner-mode=off")
			.properties(properties)
			.run();
		this.instances.add(context);
		return context;
	}

	static class Subscriber {

		private final String stall;

		private final AtomicInteger calls = new AtomicInteger();

		Subscriber(String stall) {
			this.stall = stall;
		}

		@EventSubscriber("member.created")
		void onCreated(Event event) throws InterruptedException {
			int call = this.calls.incrementAndGet();
			if (this.stall.equals("retry") && call == 1) {
				throw new IllegalStateException("first attempt fails");
			}
			if (this.stall.equals("true") || (this.stall.equals("retry") && call == 2)) {
				stalled.countDown();
				release.await();
				deliveries.computeIfAbsent("stalling", (key) -> new AtomicInteger()).incrementAndGet();
				throw new IllegalStateException("woke up too late");
			}
			deliveries.computeIfAbsent("healthy", (key) -> new AtomicInteger()).incrementAndGet();
		}

	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class App {

		@Bean
		Subscriber subscriber(@Value("${test.stall}") String stall) {
			return new Subscriber(stall);
		}

	}

}
