package dev.pgevents;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Import;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.DriverManagerDataSource;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A rolling deploy: instances are stopped gracefully, one after the other, while their
 * own threads and another process keep writing, and one instance runs throughout. Every
 * committed change is delivered, and none twice: a stopping instance finishes the calls
 * in progress and records their outcomes, and leaves everything else to the instances
 * still running.
 */
class GracefulStopTests {

	static final Map<String, AtomicInteger> deliveries = new ConcurrentHashMap<>();

	static final AtomicLong calls = new AtomicLong();

	@Test
	void tenGracefulStopsUnderContinuousWritesDeliverEveryChangeOnce() throws Exception {
		String url = TestDatabase.create();
		deliveries.clear();
		try (ConfigurableApplicationContext survivor = start(url)) {
			// another process: its rows go to the relays
			DriverManagerDataSource process = new DriverManagerDataSource(url);
			try (Writers outside = new Writers(1, new TransactionTemplate(new DataSourceTransactionManager(process)),
					new JdbcTemplate(process))) {
				for (int stop = 0; stop < 10; stop++) {
					ConfigurableApplicationContext instance = start(url);
					try (Writers writers = new Writers(3, instance.getBean(TransactionTemplate.class),
							instance.getBean(JdbcTemplate.class))) {
						writers.awaitEachCommits(20, Duration.ofSeconds(30));
						long before = calls.get();
						await().atMost(Duration.ofSeconds(30)).until(() -> calls.get() > before + 10);
						instance.close(); // SIGTERM: while its threads write and
											// subscribers run
					}
				}
				outside.awaitEachCommits(1, Duration.ofSeconds(30));
			}

			JdbcTemplate jdbc = survivor.getBean(JdbcTemplate.class);
			await().atMost(Duration.ofSeconds(60))
				.until(() -> jdbc.queryForObject("SELECT count(*) FROM keel_audit WHERE event_processed_at IS NULL",
						Integer.class) == 0);
			List<String> committed = jdbc.queryForList("SELECT id::text FROM member", String.class);
			long missing = committed.stream().filter((id) -> !deliveries.containsKey(id)).count();
			long duplicates = deliveries.values().stream().mapToInt((count) -> count.get() - 1).sum();
			System.out.printf("Graceful stops: 10 stops, %d changes, %d missing, %d delivered twice%n",
					committed.size(), missing, duplicates);
			assertThat(missing).isZero();
			assertThat(duplicates).isZero();
			assertThat(jdbc.queryForObject("SELECT count(*) FROM keel_audit_delivery", Integer.class)).isZero();
		}
	}

	private static ConfigurableApplicationContext start(String url) {
		return TestApplications.start(App.class, url, "events.relay.poll-interval=100ms", "events.relay.lease=2s",
				"events.relay.batch-size=20");
	}

	static class Subscriber {

		@EventSubscriber("member.created")
		void created(Event event) throws InterruptedException {
			calls.incrementAndGet();
			Thread.sleep(2); // work that a stop may catch in progress
			deliveries.computeIfAbsent(event.target().id(), (id) -> new AtomicInteger()).incrementAndGet();
		}

	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	@Import(Subscriber.class)
	static class App {

	}

}
