package dev.pgevents;

import java.util.List;
import java.util.Map;

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

/**
 * What is captured and who gets it: excluded columns, changed fields, the {@code changed}
 * and {@code condition} filters, and event name patterns. Sync mode: each subscriber has
 * run when its transaction returns.
 */
@WithTestDatabase
@Import(InTransaction.class)
@SpringBootTest(classes = ChangeSelectionTests.App.class,
		properties = { TestApplications.SQL_INIT, TestApplications.MEMBER_SCHEMA, "events.audit.tables=note",
				"events.audit.exclude-columns=password_hash,account.national_id" })
class ChangeSelectionTests {

	@Autowired
	JdbcTemplate jdbc;

	@Autowired
	InTransaction db;

	@Autowired
	Subscribers subscribers;

	@BeforeEach
	void clear() {
		this.subscribers.clear();
	}

	@Test
	void excludedColumnsNeverReachTheAuditTableNorTheEvents() {
		this.db.write(
				"INSERT INTO account (id, email, password_hash, national_id) VALUES (1, 'a@example.com', 'secret', 'X1')");
		this.db.write(
				"UPDATE account SET password_hash = 'secret2', national_id = 'X2', email = 'b@example.com' WHERE id = 1");
		this.db.write("DELETE FROM account WHERE id = 1");

		List<Map<String, Object>> rows = this.jdbc
			.queryForList("SELECT data::text AS data, previous_data::text AS previous FROM keel_audit WHERE table_name "
					+ "= 'account' AND data->>'id' = '1'");
		assertThat(rows).hasSize(3).allSatisfy((row) -> {
			assertThat(String.valueOf(row.get("data"))).contains("email").doesNotContain("secret", "X1", "X2");
			assertThat(String.valueOf(row.get("previous"))).doesNotContain("secret", "X1", "X2");
		});
		assertThat(this.subscribers.of("accounts")).extracting(Event::eventName)
			.containsExactly("account.created", "account.updated", "account.deleted");
		assertThat(this.subscribers.of("accounts"))
			.allSatisfy((event) -> assertThat(event.target().data()).containsKeys("id", "email", "status", "lastSeenAt")
				.doesNotContainKeys("passwordHash", "nationalId"));
		assertThat(this.subscribers.of("accounts").get(1).target().changedFields()).containsExactly("email");
	}

	@Test
	void anUpdateOfOnlyExcludedColumnsIsNoEvent() {
		this.db.write("INSERT INTO account (id, email) VALUES (2, 'a@example.com')");
		this.db.write("UPDATE account SET password_hash = 'new', national_id = 'Y' WHERE id = 2");

		assertThat(this.jdbc.queryForObject("SELECT count(*) FROM keel_audit WHERE table_name = 'account' AND op = "
				+ "'updated' AND data->>'id' = '2'", Long.class))
			.isZero();
		assertThat(this.subscribers.of("accounts")).extracting(Event::eventName).containsExactly("account.created");
	}

	@Test
	void aChangedFilterCallsTheSubscriberOnlyForUpdatesOfThoseFields() {
		this.db.write("INSERT INTO account (id, email) VALUES (3, 'a@example.com')");
		this.db.write("UPDATE account SET last_seen_at = now() WHERE id = 3");
		this.db.write("UPDATE account SET email = 'c@example.com', last_seen_at = now() WHERE id = 3");
		this.db.write("UPDATE account SET status = 'ACTIVE' WHERE id = 3");

		// the created event is not filtered; of the updates only the one that changed
		// email
		assertThat(this.subscribers.of("emailChanged")).extracting(Event::eventName)
			.containsExactly("account.created", "account.updated");
		assertThat(this.subscribers.of("emailChanged").get(1).target().changedFields()).containsExactly("email",
				"lastSeenAt");
		assertThat(this.subscribers.of("accounts")).hasSize(4);
		assertNoLedgerEntries();
	}

	@Test
	void aConditionCallsTheSubscriberOnlyWhenItHolds() {
		this.db.write("INSERT INTO account (id, email) VALUES (4, 'a@example.com'), (5, 'b@example.com')");
		this.db.write("UPDATE account SET status = 'ACTIVE' WHERE id IN (4, 5)");
		this.db.write("UPDATE account SET status = 'SHIPPED' WHERE id = 5");
		this.db.write("UPDATE account SET status = 'SHIPPED', email = 'c@example.com' WHERE id = 4");

		assertThat(this.subscribers.of("shipped")).singleElement().satisfies((event) -> {
			assertThat(event.target().id()).isEqualTo("5");
			assertThat(event.target().data()).containsEntry("status", "SHIPPED");
		});
		assertNoLedgerEntries();
	}

	@Test
	void patternsTakeEveryOperationOfATableOrOneOperationOfEveryTable() {
		this.db.write("INSERT INTO account (id, email) VALUES (6, 'a@example.com')");
		this.db.write("UPDATE account SET status = 'ACTIVE' WHERE id = 6");
		this.db.write("INSERT INTO note (body) VALUES ('n')");
		this.db.write("DELETE FROM note");
		this.db.write("DELETE FROM account WHERE id = 6");

		assertThat(this.subscribers.of("everyAccountChange")).extracting(Event::eventName)
			.containsExactly("account.created", "account.updated", "account.deleted");
		assertThat(this.subscribers.of("everyDelete")).extracting(Event::eventName)
			.containsExactly("note.deleted", "account.deleted");
	}

	private void assertNoLedgerEntries() {
		assertThat(this.jdbc.queryForObject("SELECT count(*) FROM keel_audit_delivery", Long.class)).isZero();
	}

	static class Subscribers extends RecordingSubscriber {

		@EventSubscriber(value = { "account.created", "account.updated", "account.deleted" }, name = "accounts")
		void accounts(Event event) {
			record("accounts", event);
		}

		@EventSubscriber(value = { "account.created", "account.updated" }, changed = "email", name = "emailChanged")
		void emailChanged(Event event) {
			record("emailChanged", event);
		}

		@EventSubscriber(value = "account.updated",
				condition = "target.data['status'] == 'SHIPPED' && !target.changedFields.contains('email')",
				name = "shipped")
		void shipped(Event event) {
			record("shipped", event);
		}

		@EventSubscriber(value = "account.*", name = "everyAccountChange")
		void everyAccountChange(Event event) {
			record("everyAccountChange", event);
		}

		@EventSubscriber(value = "*.deleted", name = "everyDelete")
		void everyDelete(Event event) {
			record("everyDelete", event);
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
