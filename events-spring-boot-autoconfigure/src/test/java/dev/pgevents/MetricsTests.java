package dev.pgevents;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
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
 * With a meter registry in the application, every subscriber call is counted by outcome
 * and its latency timed, on every path, and the backlog shows in gauges.
 */
@WithTestDatabase
@SpringBootTest(classes = MetricsTests.App.class,
		properties = { TestApplications.SQL_INIT, TestApplications.MEMBER_SCHEMA, "events.relay.poll-interval=100ms",
				"events.retry.initial-delay=10ms", "events.retry.max-delay=50ms", "events.retry.max-attempts=3" })
class MetricsTests {

	@Autowired
	JdbcTemplate jdbc;

	@Autowired
	TransactionTemplate transactions;

	@Autowired
	MeterRegistry registry;

	@Test
	void callsAreCountedByOutcomeOnEveryPathAndTheBacklogShowsInGauges() {
		this.transactions.executeWithoutResult(
				(status) -> this.jdbc.update("INSERT INTO member (name, email) VALUES ('m', 'm@example.com')"));

		await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
			assertThat(deliveries("flaky", "failed")).isEqualTo(2);
			assertThat(deliveries("flaky", "delivered")).isEqualTo(1);
			assertThat(deliveries("broken", "failed")).isEqualTo(2);
			assertThat(deliveries("broken", "dead")).isEqualTo(1);
		});
		assertThat(this.registry.get("events.latency").tags("subscriber", "flaky", "path", "dispatch").timer().count())
			.isEqualTo(1);
		assertThat(this.registry.get("events.latency").tags("subscriber", "flaky", "path", "retry").timer().count())
			.isEqualTo(2);
		await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
			assertThat(this.registry.get("events.dead").gauge().value()).isEqualTo(1);
			assertThat(this.registry.get("events.pending").gauge().value()).isZero();
			assertThat(this.registry.get("events.lag").gauge().value()).isZero();
		});
	}

	@Test
	void theLagRisesWhileOutsideWritesWaitForARelayAndFallsOnceTheyAreDelivered() {
		String url = TestDatabase.create();
		String[] properties = { "spring.datasource.url=" + url, TestApplications.SQL_INIT,
				TestApplications.MEMBER_SCHEMA, "spring.main.banner-mode=off", "events.relay.poll-interval=100ms",
				"events.retry.initial-delay=10ms", "events.retry.max-delay=50ms", "events.retry.max-attempts=3" };
		try (ConfigurableApplicationContext held = new SpringApplicationBuilder(App.class).properties(properties)
			.properties("events.relay.enabled=false")
			.run()) {
			MeterRegistry registry = held.getBean(MeterRegistry.class);
			held.getBean(JdbcTemplate.class).update("INSERT INTO member (name, email) VALUES ('o', 'o@example.com')");

			await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
				assertThat(registry.get("events.lag").gauge().value()).isPositive();
				assertThat(registry.get("events.pending").gauge().value()).isEqualTo(1);
			});
			try (ConfigurableApplicationContext relay = new SpringApplicationBuilder(App.class).properties(properties)
				.run()) {
				await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
					assertThat(registry.get("events.lag").gauge().value()).isZero();
					assertThat(registry.get("events.pending").gauge().value()).isZero();
				});
			}
		}
	}

	private double deliveries(String subscriber, String outcome) {
		return this.registry.find("events.deliveries")
			.tags("subscriber", subscriber, "event", "member.created", "outcome", outcome)
			.counters()
			.stream()
			.mapToDouble((counter) -> counter.count())
			.sum();
	}

	static class Subscribers {

		final AtomicInteger flakyCalls = new AtomicInteger();

		@EventSubscriber("member.created")
		void flaky(Event event) {
			if (this.flakyCalls.incrementAndGet() <= 2) {
				throw new IllegalStateException("not yet");
			}
		}

		@EventSubscriber("member.created")
		void broken(Event event) {
			throw new IllegalStateException("never");
		}

	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class App {

		@Bean
		Subscribers subscribers() {
			return new Subscribers();
		}

		@Bean
		SimpleMeterRegistry meterRegistry() {
			return new SimpleMeterRegistry();
		}

	}

}
