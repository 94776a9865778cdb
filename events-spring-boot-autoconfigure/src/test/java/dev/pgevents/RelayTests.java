package dev.pgevents;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Writes made outside the application's transactions (another process, autocommit JDBC, a
 * bulk statement) reach the subscribers through the relay. Polling is effectively off
 * here (one hour), so each test also shows that the trigger's notification wakes the
 * relay.
 */
@SpringBootTest(classes = RelayTests.App.class,
		properties = { TestApplications.SQL_INIT, TestApplications.MEMBER_SCHEMA, "events.relay.poll-interval=1h" })
class RelayTests {

	static String url;

	@DynamicPropertySource
	static void database(DynamicPropertyRegistry registry) {
		url = TestDatabase.create();
		registry.add("spring.datasource.url", () -> url);
	}

	@Autowired
	JdbcTemplate jdbc;

	@Autowired
	Counting counting;

	@BeforeEach
	void clear() {
		this.counting.deliveries.clear();
	}

	@Test
	void aWriteFromAnotherProcessIsDeliveredAtOnce() throws Exception {
		try (Connection other = DriverManager.getConnection(url); Statement statement = other.createStatement()) {
			statement.execute("INSERT INTO member (name, email) VALUES ('psql', 'psql@example.com')");
		}

		await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(this.counting.deliveries).hasSize(1));
		awaitAllProcessed();
	}

	@Test
	void autocommitWritesOfTheApplicationAreDelivered() {
		this.jdbc.update("INSERT INTO member (name, email) VALUES ('auto', 'auto@example.com')");
		this.jdbc.update("UPDATE member SET email = 'auto2@example.com' WHERE name = 'auto'");

		await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(this.counting.deliveries).hasSize(2));
	}

	@Test
	void aBurstOfFiftyThousandOutsideWritesIsDeliveredCompletelyInBatches() {
		int rows = 50_000;
		long pendingIndexReads = pendingIndexReads();
		this.jdbc.update("INSERT INTO member (name, email) SELECT 'b' || i, 'b' || i || '@example.com' "
				+ "FROM generate_series(1, ?) i", rows);

		await().atMost(Duration.ofMinutes(2)).untilAsserted(() -> assertThat(this.counting.deliveries).hasSize(rows));
		assertThat(this.counting.deliveries.values()).allMatch((count) -> count.get() == 1);
		awaitAllProcessed();
		// each batch is claimed and marked through its own rows: reading all the rows
		// still
		// undispatched for every batch of 500 would take 2.5 million reads
		assertThat(pendingIndexReads() - pendingIndexReads).as("entries read from the pending index")
			.isLessThan(5L * rows);
	}

	private long pendingIndexReads() {
		this.jdbc.execute("SELECT pg_stat_force_next_flush()");
		this.jdbc.execute("SELECT pg_stat_clear_snapshot()");
		return this.jdbc.queryForObject(
				"SELECT idx_tup_read FROM pg_stat_user_indexes WHERE indexrelname = 'keel_audit_pending_idx'",
				Long.class);
	}

	private void awaitAllProcessed() {
		await().atMost(Duration.ofSeconds(30))
			.untilAsserted(() -> assertThat(this.jdbc
				.queryForObject("SELECT count(*) FROM keel_audit WHERE event_processed_at IS NULL", Integer.class))
				.isZero());
	}

	static class Counting {

		final Map<String, AtomicInteger> deliveries = new ConcurrentHashMap<>();

		@EventSubscriber({ "member.created", "member.updated" })
		void count(Event event) {
			this.deliveries.computeIfAbsent(event.id(), (id) -> new AtomicInteger()).incrementAndGet();
		}

	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class App {

		@Bean
		Counting counting() {
			return new Counting();
		}

	}

}
