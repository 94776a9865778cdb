package dev.pgevents;

import java.time.Duration;
import java.time.Instant;
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
 * A retry that runs for several leases keeps its ledger entry: no other instance takes it
 * over and makes the call again. And an outcome that arrives after the entry was claimed
 * again (a process that froze past its lease) cannot overwrite what the newer claim
 * recorded: a ledger entry's outcome is recorded only under the lease token of the claim
 * it belongs to. (Audit rows are claimed by row locks instead: see
 * {@link StallRecoveryTests} and {@link SlowSubscriberTests}.)
 */
class FencingTests {

	static final Map<String, AtomicInteger> deliveries = new ConcurrentHashMap<>();

	static final AtomicInteger stalledCalls = new AtomicInteger();

	static volatile CountDownLatch stalled = new CountDownLatch(1);

	static volatile CountDownLatch release = new CountDownLatch(1);

	final List<ConfigurableApplicationContext> instances = new ArrayList<>();

	String url;

	@BeforeEach
	void database() {
		this.url = TestDatabase.create();
		deliveries.clear();
		stalledCalls.set(0);
		release = new CountDownLatch(1);
		stalled = new CountDownLatch(1);
	}

	@AfterEach
	void stop() {
		release.countDown();
		this.instances.forEach(ConfigurableApplicationContext::close);
	}

	@Test
	void aSlowRetryKeepsItsEntryAndAnOutcomeUnderAnOldTokenChangesNothing() throws Exception {
		ConfigurableApplicationContext stalling = start("test.stall=retry", "events.retry.initial-delay=10ms");
		JdbcTemplate jdbc = stalling.getBean(JdbcTemplate.class);
		stalling.getBean(TransactionTemplate.class)
			.executeWithoutResult((status) -> jdbc.update("INSERT INTO member (name, email) VALUES ('s', 's')"));
		// the first attempt failed after commit; the relay's retry stalls
		assertThat(stalled.await(10, TimeUnit.SECONDS)).isTrue();
		JdbcTemplate other = start("test.stall=false").getBean(JdbcTemplate.class);

		// three leases on, the other instance's relay has run round after round: each
		// delivers an outside write, then looks for due entries
		Instant claimed = Instant.now();
		await().atMost(Duration.ofSeconds(10))
			.until(() -> Duration.between(claimed, Instant.now()).compareTo(Duration.ofSeconds(3)) > 0);
		for (int i = 0; i < 2; i++) {
			other.update("INSERT INTO member (name, email) VALUES ('outside', 'o')");
			int delivered = i + 1;
			await().atMost(Duration.ofSeconds(10)).until(() -> deliveries.size() == delivered);
		}
		assertThat(stalledCalls).hasValue(1);
		assertThat(other.queryForMap("SELECT status, attempts, lease_token FROM keel_audit_delivery"))
			.containsEntry("status", "pending")
			.containsEntry("attempts", 1)
			.containsEntry("lease_token", 1);

		// as an instance that claimed the entry after a lease lost to a frozen process
		other.update("UPDATE keel_audit_delivery SET status = 'delivered', attempts = 2, "
				+ "lease_token = lease_token + 1, lease_until = NULL");
		release.countDown(); // the stalled retry returns, and fails
		stalling.close(); // waits for the relay to record the outcome

		assertThat(other.queryForMap("SELECT status, attempts, lease_token, last_error FROM keel_audit_delivery"))
			.containsEntry("status", "delivered")
			.containsEntry("attempts", 2)
			.containsEntry("lease_token", 2)
			.hasEntrySatisfying("last_error", (error) -> assertThat(error).asString().contains("first attempt fails"));
		assertThat(stalledCalls).hasValue(1);
	}

	private ConfigurableApplicationContext start(String... properties) {
		ConfigurableApplicationContext context = new SpringApplicationBuilder(App.class)
			.properties("spring.datasource.url=" + this.url, TestApplications.SQL_INIT, TestApplications.MEMBER_SCHEMA,
					"events.relay.poll-interval=100ms", "events.relay.lease=1s", "spring.main.banner-mode=off")
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
			if (this.stall.equals("retry") && call == 2) {
				stalledCalls.incrementAndGet();
				stalled.countDown();
				release.await();
				throw new IllegalStateException("woke up too late");
			}
			deliveries.computeIfAbsent(event.id(), (key) -> new AtomicInteger()).incrementAndGet();
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
