package dev.pgevents;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;

import org.junit.jupiter.api.AfterAll;
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
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A database role other than the application's, with INSERT on one audited table only,
 * cannot forge the context of its changes: the identity, trace and scope it sets in its
 * session are ignored, its changes record its role as their identity, and they are
 * delivered at once (a forged scope held them back for the lease, or, naming a live
 * instance, for as long as it ran). The application's own transactions keep theirs.
 */
@SpringBootTest(classes = ForgedContextTests.App.class, properties = { TestApplications.SQL_INIT,
		TestApplications.MEMBER_SCHEMA, "events.relay.poll-interval=1h", "events.relay.lease=2m" })
class ForgedContextTests {

	static final String WRITER = "events_writer_" + ProcessHandle.current().pid();

	static String url;

	@DynamicPropertySource
	static void database(DynamicPropertyRegistry registry) {
		url = TestDatabase.create();
		registry.add("spring.datasource.url", () -> url);
	}

	@AfterAll
	static void dropRole() throws Exception {
		try (Connection admin = DriverManager.getConnection(url); Statement statement = admin.createStatement()) {
			statement.execute("DROP OWNED BY " + WRITER);
			statement.execute("DROP ROLE IF EXISTS " + WRITER);
		}
	}

	@Autowired
	JdbcTemplate jdbc;

	@Autowired
	TransactionTemplate transactions;

	@Autowired
	Received received;

	@BeforeEach
	void writerRole() {
		if (this.jdbc.queryForList("SELECT 1 FROM pg_roles WHERE rolname = ?", WRITER).isEmpty()) {
			this.jdbc.execute("CREATE ROLE " + WRITER + " LOGIN");
			this.jdbc.execute("GRANT USAGE ON SCHEMA public TO " + WRITER);
			this.jdbc.execute("GRANT INSERT ON member TO " + WRITER);
		}
		this.received.events.clear();
	}

	@Test
	void anotherRolesForgedIdentityAndTraceAreIgnoredAndItsRoleIsRecorded() throws Exception {
		String instance = this.jdbc.queryForObject(
				"SELECT encode(id, 'hex') FROM keel_audit_instance ORDER BY last_seen_at DESC LIMIT 1", String.class);
		String forgedScope = instance.substring(0, 8) + "-" + instance.substring(8, 12) + "-"
				+ instance.substring(12, 16) + "-0000-000000000001";
		writeAs(WRITER, "SET pgevents.identity = 'admin'", "SET pgevents.trace = '0af7651916cd43dd8448eb211c80319c'",
				"SET pgevents.span = 'b7ad6b7169203331'", "SET pgevents.scope = '" + forgedScope + "'",
				"INSERT INTO member (name, email) VALUES ('forged', 'f@example.com')");

		// the relay polls hourly and the lease is two minutes: only the notification of a
		// row without a scope brings it
		await().atMost(Duration.ofSeconds(20)).until(() -> !this.received.events.isEmpty());
		Event event = this.received.events.peek();
		assertThat(event.identityId()).isEqualTo("db:" + WRITER);
		Map<String, Object> row = this.jdbc
			.queryForMap("SELECT identity_id, trace_id, scope_id FROM keel_audit WHERE data ->> 'name' = 'forged'");
		assertThat(row.get("identity_id")).isEqualTo("db:" + WRITER);
		assertThat(row.get("trace_id")).isNotEqualTo("0af7651916cd43dd8448eb211c80319c");
		assertThat(row.get("scope_id")).isNull();
	}

	@Test
	void aRandomScopeFromAnotherRoleDoesNotHoldItsRowBack() throws Exception {
		writeAs(WRITER, "SET pgevents.scope = '" + UUID.randomUUID() + "'",
				"INSERT INTO member (name, email) VALUES ('scoped', 's@example.com')");

		await().atMost(Duration.ofSeconds(20)).until(() -> !this.received.events.isEmpty());
		assertThat(this.received.events.peek().identityId()).isEqualTo("db:" + WRITER);
	}

	@Test
	void theApplicationsOwnTransactionsKeepTheirIdentity() {
		this.transactions.executeWithoutResult(
				(status) -> this.jdbc.update("INSERT INTO member (name, email) VALUES ('own', 'o@example.com')"));

		await().atMost(Duration.ofSeconds(20)).until(() -> !this.received.events.isEmpty());
		assertThat(this.received.events.peek().identityId()).isEqualTo("alice");
	}

	private static void writeAs(String role, String... statements) throws Exception {
		try (Connection connection = DriverManager.getConnection(url.replaceAll("([?&])user=[^&]*", "$1user=" + role));
				Statement statement = connection.createStatement()) {
			for (String sql : statements) {
				statement.execute(sql);
			}
		}
	}

	static class Received {

		final Queue<Event> events = new ConcurrentLinkedQueue<>();

		@EventSubscriber("member.created")
		void record(Event event) {
			this.events.add(event);
		}

	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class App {

		@Bean
		Received received() {
			return new Received();
		}

		@Bean
		IdentityResolver identityResolver() {
			return () -> "alice";
		}

	}

}
