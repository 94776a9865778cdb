package dev.pgevents;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Bean;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The database drops every connection of the application while the relay runs: the relay
 * recovers, listens again and delivers everything, logging the loss once rather than in a
 * tight loop.
 */
@ExtendWith(OutputCaptureExtension.class)
@SpringBootTest(classes = ConnectionLossTests.App.class,
		properties = { TestApplications.SQL_INIT, TestApplications.MEMBER_SCHEMA, "events.relay.poll-interval=300ms" })
class ConnectionLossTests {

	static String url;

	@DynamicPropertySource
	static void database(DynamicPropertyRegistry registry) {
		url = TestDatabase.create();
		registry.add("spring.datasource.url", () -> url);
	}

	@Autowired
	Counting counting;

	@Test
	void theRelayRecoversFromTerminatedConnectionsAndDeliversEverything(CapturedOutput output) throws Exception {
		try (Connection admin = DriverManager.getConnection(url); Statement statement = admin.createStatement()) {
			for (int round = 1; round <= 3; round++) {
				statement.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
						+ "WHERE datname = current_database() AND pid <> pg_backend_pid()");
				statement.execute("INSERT INTO member (name, email) SELECT 'r' || i, 'r' || i "
						+ "FROM generate_series(1, 100) i");
				int expected = round * 100;
				// delivered and recorded: a claim ended before it records its outcomes is
				// delivered again, as a lost connection at that moment would have it
				await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
					assertThat(this.counting.deliveries).hasSize(expected);
					assertThat(undispatched(statement)).isZero();
				});
			}
		}
		assertThat(this.counting.deliveries.values()).allMatch((count) -> count.get() == 1);
		// each loss is logged at most once, not once per poll
		assertThat(occurrences(output.getAll(), "Relay lost its listener connection")).isBetween(1, 3);
		// once per run of failures: a termination kills every pooled connection, and each
		// may fail once when the pool hands it out, after successes on others
		assertThat(occurrences(output.getAll(), "Relay failed; retrying")).isLessThanOrEqualTo(6);
	}

	private static int undispatched(Statement statement) throws SQLException {
		try (ResultSet rs = statement
			.executeQuery("SELECT count(*) FROM keel_audit WHERE event_processed_at IS NULL")) {
			rs.next();
			return rs.getInt(1);
		}
	}

	private static int occurrences(String text, String phrase) {
		return text.split(Pattern.quote(phrase), -1).length - 1;
	}

	static class Counting {

		final Map<String, AtomicInteger> deliveries = new ConcurrentHashMap<>();

		@EventSubscriber("member.created")
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
