package dev.pgevents;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A scope written by hand that names this running instance, in a session of a trusted
 * role (the application's own, in {@code psql}), holds its row back no longer than the
 * lease: the instance tells it from the scopes it issued and leaves the row to the
 * relays. Before, the row waited for as long as the instance ran. The application's own
 * transactions, whose scopes it issued, are still dispatched after commit.
 */
@SpringBootTest(classes = ForgedScopeTests.App.class, properties = { TestApplications.SQL_INIT,
		TestApplications.MEMBER_SCHEMA, "events.relay.poll-interval=200ms", "events.relay.lease=2s" })
class ForgedScopeTests {

	static String url;

	@DynamicPropertySource
	static void database(DynamicPropertyRegistry registry) {
		url = TestDatabase.create();
		registry.add("spring.datasource.url", () -> url);
	}

	@Autowired
	JdbcTemplate jdbc;

	@Autowired
	TransactionTemplate transactions;

	@Autowired
	Received received;

	@Test
	void aScopeNamingThisInstanceThatItNeverIssuedIsReleasedAfterTheLease() throws Exception {
		String instance = this.jdbc.queryForObject("SELECT encode(id, 'hex') FROM keel_audit_instance", String.class);
		String forged = instance.substring(0, 8) + "-" + instance.substring(8, 12) + "-" + instance.substring(12, 16)
				+ "-0123-456789abcdef";
		try (Connection trusted = DriverManager.getConnection(url); Statement statement = trusted.createStatement()) {
			statement.execute("BEGIN");
			statement.execute("SET LOCAL pgevents.scope = '" + forged + "'");
			statement.execute("INSERT INTO member (name, email) VALUES ('forged', 'f@example.com')");
			statement.execute("COMMIT");
		}
		assertThat(this.jdbc.queryForObject("SELECT scope_id::text FROM keel_audit WHERE data ->> 'name' = 'forged'",
				String.class))
			.isEqualTo(forged);

		await().atMost(Duration.ofSeconds(30)).until(() -> this.received.names.contains("forged"));

		this.transactions.executeWithoutResult(
				(status) -> this.jdbc.update("INSERT INTO member (name, email) VALUES ('own', 'o@example.com')"));
		await().atMost(Duration.ofSeconds(30)).until(() -> this.received.names.contains("own"));
		assertThat(this.received.names).containsOnlyOnce("forged", "own");
	}

	static class Received {

		final Queue<String> names = new ConcurrentLinkedQueue<>();

		@EventSubscriber("member.created")
		void record(Event event) {
			this.names.add((String) event.target().data().get("name"));
		}

	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class App {

		@Bean
		Received received() {
			return new Received();
		}

	}

}
