package dev.pgevents;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;

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
 * Many transactions committing at once: each change reaches each subscriber exactly once.
 */
@WithTestDatabase
@SpringBootTest(classes = ConcurrentDeliveryTests.App.class, properties = { TestApplications.SQL_INIT,
		TestApplications.MEMBER_SCHEMA, "spring.datasource.hikari.maximum-pool-size=12" })
class ConcurrentDeliveryTests {

	static final int THREADS = 8;

	static final int TRANSACTIONS = 100;

	@Autowired
	JdbcTemplate jdbc;

	@Autowired
	TransactionTemplate transactions;

	@Autowired
	Subscribers subscribers;

	@Test
	void concurrentTransactionsDeliverEveryChangeExactlyOnce() throws Exception {
		ExecutorService pool = Executors.newFixedThreadPool(THREADS);
		List<Future<?>> writers = new ArrayList<>();
		for (int t = 0; t < THREADS; t++) {
			int thread = t;
			writers.add(pool.submit(() -> {
				for (int i = 0; i < TRANSACTIONS; i++) {
					String name = "t" + thread + "-" + i;
					this.transactions.executeWithoutResult((status) -> {
						this.jdbc.update("INSERT INTO member (name, email) VALUES (?, ?), (?, ?)", name + "a",
								name + "@a", name + "b", name + "@b");
						this.jdbc.update("UPDATE member SET email = upper(email) WHERE name = ?", name + "a");
					});
				}
			}));
		}
		for (Future<?> writer : writers) {
			writer.get();
		}
		pool.shutdown();

		int expected = THREADS * TRANSACTIONS * 3;
		Map<String, Long> deliveries = this.subscribers.events.stream()
			.collect(Collectors.groupingBy(Event::id, Collectors.counting()));
		assertThat(deliveries).hasSize(expected);
		assertThat(deliveries.values()).containsOnly(1L);
		assertThat(this.subscribers.events.stream()
			.collect(Collectors.groupingBy(Event::eventName, Collectors.counting())))
			.containsEntry("member.created", (long) THREADS * TRANSACTIONS * 2)
			.containsEntry("member.updated", (long) THREADS * TRANSACTIONS);
		await().untilAsserted(() -> assertThat(this.jdbc
			.queryForObject("SELECT count(*) FROM keel_audit WHERE event_processed_at IS NULL", Long.class)).isZero());
		assertThat(this.jdbc.queryForObject("SELECT count(*) FROM keel_audit", Long.class)).isEqualTo(expected);
		assertThat(this.jdbc.queryForObject("SELECT count(*) FROM keel_audit_delivery", Long.class)).isZero();
		assertThat(this.subscribers.events.stream().map(Event::id).collect(Collectors.toSet()))
			.containsExactlyInAnyOrderElementsOf(
					this.jdbc.queryForList("SELECT id::text FROM keel_audit", String.class));
	}

	static class Subscribers extends RecordingSubscriber {

		@EventSubscriber({ "member.created", "member.updated" })
		void all(Event event) {
			record("all", event);
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
