package dev.pgevents;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The {@code changed} and {@code condition} filters hold on every path, not only the
 * after-commit dispatch: the relay's delivery of rows written outside the application,
 * and retries. A filtered-out event leaves no ledger entry; a condition that fails on an
 * event fails that delivery, which is retried and dead-lettered like a subscriber that
 * throws.
 */
@WithTestDatabase
@Import(InTransaction.class)
@SpringBootTest(classes = FilterPathsTests.App.class,
		properties = { TestApplications.SQL_INIT, TestApplications.MEMBER_SCHEMA, "events.relay.poll-interval=50ms",
				"events.retry.max-attempts=3", "events.retry.initial-delay=40ms", "events.retry.max-delay=200ms" })
class FilterPathsTests {

	@Autowired
	JdbcTemplate jdbc;

	@Autowired
	InTransaction db;

	@Autowired
	Subscribers subscribers;

	@BeforeEach
	void clear() {
		this.subscribers.clear();
		this.subscribers.shippedFailures.set(0);
	}

	@Test
	void theRelayAppliesTheFiltersToRowsWrittenOutsideTheApplication() {
		// autocommit statements: no application transaction, so the relay delivers them
		this.jdbc.update("INSERT INTO account (id, email) VALUES (1, 'a@example.com')");
		this.jdbc.update("UPDATE account SET last_seen_at = now() WHERE id = 1");
		this.jdbc.update("UPDATE account SET email = 'b@example.com' WHERE id = 1");

		await().atMost(Duration.ofSeconds(30)).until(() -> processed("account", "1") == 3);
		assertThat(this.subscribers.of("accounts")).hasSize(3);
		assertThat(this.subscribers.of("emailChanged"))
			.extracting((event) -> RecordingSubscriber.describe(event, "email"))
			.containsExactly("account.updated 1 a@example.com->b@example.com");
		assertThat(this.subscribers.of("shipped")).isEmpty();
		assertThat(ledger("account", "1")).isEmpty();
	}

	@Test
	void aRetryDeliversAnEventTheFilterTookAndNoOther() {
		this.subscribers.shippedFailures.set(1);
		this.db.write("INSERT INTO account (id, email) VALUES (2, 'a@example.com')");
		this.db.write("UPDATE account SET status = 'SHIPPED' WHERE id = 2");
		this.db.write("UPDATE account SET status = 'DONE' WHERE id = 2");

		await().atMost(Duration.ofSeconds(30))
			.untilAsserted(() -> assertThat(ledger("account", "2")).singleElement()
				.satisfies((entry) -> assertThat(entry).containsEntry("subscriber", "shipped")
					.containsEntry("status", "delivered")
					.containsEntry("attempts", 2)));
		assertThat(this.subscribers.of("shipped")).extracting((event) -> RecordingSubscriber.describe(event, "status"))
			.containsExactly("account.updated 2 NEW->SHIPPED");
	}

	@Test
	void aConditionThatFailsOnAnEventIsRetriedAndDeadLetteredAndTheOthersAreDelivered() {
		this.db.write("INSERT INTO note (body) VALUES (NULL)");
		this.db.write("INSERT INTO note (body) VALUES ('long enough')");

		await().atMost(Duration.ofSeconds(30))
			.untilAsserted(() -> assertThat(this.jdbc
				.queryForList("SELECT a.data->>'body' AS body, d.subscriber, d.status, d.attempts, d.last_error "
						+ "FROM keel_audit_delivery d JOIN keel_audit a ON a.id = d.audit_id "
						+ "WHERE a.table_name = 'note'"))
				.singleElement()
				.satisfies((entry) -> assertThat(entry).containsEntry("body", null)
					.containsEntry("subscriber", "longNotes")
					.containsEntry("status", "dead")
					.containsEntry("attempts", 3)
					.extractingByKey("last_error")
					.asString()
					.contains("length()")));
		assertThat(this.subscribers.of("longNotes")).extracting((event) -> event.target().data().get("body"))
			.containsExactly("long enough");
	}

	/**
	 * How many audit rows of a table's row with this id the relay or dispatch processed.
	 */
	private int processed(String table, String id) {
		return this.jdbc.queryForObject("SELECT count(*) FROM keel_audit WHERE table_name = ? AND data->>'id' = ? "
				+ "AND event_processed_at IS NOT NULL", Integer.class, table, id);
	}

	private List<Map<String, Object>> ledger(String table, String id) {
		return this.jdbc.queryForList(
				"SELECT d.subscriber, d.status, d.attempts FROM keel_audit_delivery d "
						+ "JOIN keel_audit a ON a.id = d.audit_id WHERE a.table_name = ? AND a.data->>'id' = ?",
				table, id);
	}

	static class Subscribers extends RecordingSubscriber {

		final AtomicInteger shippedFailures = new AtomicInteger();

		@EventSubscriber("account.*")
		void accounts(Event event) {
			record("accounts", event);
		}

		@EventSubscriber(value = "account.updated", changed = "email")
		void emailChanged(Event event) {
			record("emailChanged", event);
		}

		@EventSubscriber(value = "account.updated", condition = "target.data['status'] == 'SHIPPED'")
		void shipped(Event event) {
			if (this.shippedFailures.getAndDecrement() > 0) {
				throw new IllegalStateException("not yet");
			}
			record("shipped", event);
		}

		// fails on a note without a body: a method call on null
		@EventSubscriber(value = "note.created", condition = "target.data['body'].length() > 3")
		void longNotes(Event event) {
			record("longNotes", event);
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
