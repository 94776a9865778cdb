package dev.pgevents;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

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
 * Rows that another running instance still holds (its dispatch is slow, or its queue
 * long) cost the relay nothing: its claim steps over them instead of reading them,
 * however many there are (through no index of them: those of undispatched rows by scope
 * and, for an ordered subscriber, by key), and takes them over once that instance is
 * gone.
 */
@WithTestDatabase
@SpringBootTest(classes = HeldRowsTests.App.class, properties = { TestApplications.SQL_INIT,
		TestApplications.MEMBER_SCHEMA, "events.relay.poll-interval=200ms", "events.relay.lease=2s" })
class HeldRowsTests {

	private static final int HELD = 20_000;

	@DynamicPropertySource
	static void database(DynamicPropertyRegistry registry) {
		// a database of its own: the statistics read below are the table's
		String url = TestDatabase.create();
		registry.add("spring.datasource.url", () -> url);
	}

	@Autowired
	JdbcTemplate jdbc;

	@Autowired
	Received received;

	@Test
	void theRelaysClaimReadsNoneOfTheRowsARunningInstanceHoldsAndTakesThemOverOnceItIsGone() {
		// another instance, running (its row is fresh for a day), whose rows wait for its
		// own dispatch, older than the lease
		this.jdbc.update("INSERT INTO keel_audit_instance (id, last_seen_at) "
				+ "VALUES ('\\x0102030405060708'::bytea, now() + interval '1 day')");
		this.jdbc.update(
				"""
						INSERT INTO keel_audit (table_name, op, data, created_at, scope_id)
						SELECT 'member', 'created', jsonb_build_object('id', gen_random_uuid(), 'name', 'held' || i,
							'email', 'h@example.com', 'created_at', now()), now() - interval '1 hour',
							('01020304-0506-0708-' || lpad(to_hex(i / 65536), 4, '0') || '-' || lpad(to_hex(i % 65536), 12, '0'))::uuid
						FROM generate_series(1, ?) i
						""",
				HELD);
		// planned with the statistics autovacuum would have gathered
		this.jdbc.execute("ANALYZE keel_audit");
		Map<String, Object> before = statistics();

		// written from outside the application: the relay claims them
		this.jdbc.update("INSERT INTO member (name, email) SELECT 'outside' || i, 'o@example.com' "
				+ "FROM generate_series(1, 5) i");
		await().atMost(Duration.ofSeconds(30))
			.until(() -> this.received.names.size() == 5 && this.received.inOrder.size() == 5);
		// the claim's statistics arrive with those of its marks, on the same backend
		await().atMost(Duration.ofSeconds(30))
			.until(() -> (Long) statistics().get("upd") - (Long) before.get("upd") >= 5);
		Map<String, Object> after = statistics();
		assertThat((Long) after.get("fetched") - (Long) before.get("fetched"))
			.as("audit rows the relay read through indexes while it claimed 5 rows beside %d held ones", HELD)
			.isLessThan(HELD / 10);
		assertThat((Long) after.get("seq") - (Long) before.get("seq")).as("audit rows read by sequential scans")
			.isZero();
		assertThat(this.received.names.keySet()).noneMatch((name) -> name.startsWith("held"));

		// the other instance is gone: its rows are the relay's, each delivered once
		this.jdbc.update("UPDATE keel_audit_instance SET last_seen_at = now() - interval '1 hour' "
				+ "WHERE id = '\\x0102030405060708'::bytea");
		await().atMost(Duration.ofSeconds(60))
			.until(() -> this.received.names.size() == 5 + HELD && this.received.inOrder.size() == 5 + HELD);
		assertThat(this.received.names.values()).allMatch((count) -> count == 1);
		assertThat(this.received.inOrder.values()).allMatch((count) -> count == 1);
	}

	private Map<String, Object> statistics() {
		this.jdbc.execute("SELECT pg_stat_clear_snapshot()");
		return this.jdbc.queryForMap("SELECT coalesce(seq_tup_read, 0) AS seq, coalesce(idx_tup_fetch, 0) AS fetched, "
				+ "n_tup_upd AS upd FROM pg_stat_user_tables WHERE relname = 'keel_audit'");
	}

	static class Received {

		final Map<String, Integer> names = new ConcurrentHashMap<>();

		final Map<String, Integer> inOrder = new ConcurrentHashMap<>();

		@EventSubscriber("member.created")
		void onCreated(Event event) {
			this.names.merge((String) event.target().data().get("name"), 1, Integer::sum);
		}

		// gives the table an index of undispatched rows by key, which the held rows are
		// in
		@EventSubscriber(value = "member.created", ordered = true)
		void onCreatedInOrder(Event event) {
			this.inOrder.merge((String) event.target().data().get("name"), 1, Integer::sum);
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
