package dev.pgevents;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The relay's claim is its transaction, which the database ends when it sits idle for
 * longer than the lease. A batch whose subscribers take longer than the lease in all,
 * each call well within it, must still be delivered once: the claim records outcomes as
 * it goes and never sits idle that long. While a backlog drains, the relay claims the
 * next batch as it delivers one; a batch claimed that way that then waits for longer than
 * a third of the lease is released and claimed again, and delivered once, in order.
 */
@WithTestDatabase
@SpringBootTest(classes = RelayClaimTests.App.class,
		properties = { TestApplications.SQL_INIT, TestApplications.MEMBER_SCHEMA, "events.relay.lease=1s",
				"events.relay.batch-size=10", "events.relay.poll-interval=100ms" })
class RelayClaimTests {

	@Autowired
	JdbcTemplate jdbc;

	@Autowired
	Slow slow;

	@Test
	void aBatchThatTakesLongerThanTheLeaseIsDeliveredOnce() {
		// autocommit: the relay delivers them in batches of 10: the first at once, the
		// second in 2.5 s while the third, claimed after the quick first one, waits
		this.jdbc.update("INSERT INTO member (name, email) SELECT 's' || i, CASE WHEN i BETWEEN 11 AND 20 THEN 'slow' "
				+ "ELSE 'quick' END FROM generate_series(1, 30) i");

		await().atMost(Duration.ofSeconds(30))
			.until(() -> this.jdbc.queryForObject("SELECT count(*) FROM keel_audit WHERE event_processed_at IS NULL",
					Integer.class) == 0);
		assertThat(this.slow.deliveries).hasSize(30);
		assertThat(this.slow.deliveries.values()).allMatch((count) -> count.get() == 1);
		assertThat(this.slow.order).isSorted();
	}

	static class Slow {

		final Map<String, AtomicInteger> deliveries = new ConcurrentHashMap<>();

		final List<Long> order = new CopyOnWriteArrayList<>();

		@EventSubscriber("member.created")
		void onCreated(Event event) throws InterruptedException {
			if ("slow".equals(event.target().data().get("email"))) {
				Thread.sleep(250); // work that takes a quarter of the lease
			}
			this.deliveries.computeIfAbsent(event.id(), (id) -> new AtomicInteger()).incrementAndGet();
			this.order.add(Long.parseLong(event.id()));
		}

	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class App {

		@Bean
		Slow slow() {
			return new Slow();
		}

	}

}
