package dev.pgevents;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Committed row changes reach every subscriber, in the committing thread, with Keel's
 * event shape.
 */
@WithTestDatabase
@SpringBootTest(classes = DeliveryTests.App.class,
		properties = { TestApplications.SQL_INIT, TestApplications.MEMBER_SCHEMA, "events.audit.tables=note" })
class DeliveryTests {

	@Autowired
	JdbcTemplate jdbc;

	@Autowired
	TransactionTemplate transactions;

	@Autowired
	Subscribers subscribers;

	@BeforeEach
	void clear() {
		this.subscribers.clear();
		this.subscribers.members.clear();
		CurrentUser.name.remove();
	}

	@Test
	void anInsertIsDeliveredToEverySubscriberOfItsEventBeforeTheTransactionReturns() {
		Instant before = Instant.now();
		UUID id = this.transactions.execute((status) -> insertMember("Ada", "ada@example.com"));
		Instant after = Instant.now();

		assertThat(this.subscribers.of("welcome")).singleElement().satisfies((event) -> {
			assertThat(event.eventName()).isEqualTo("member.created");
			assertThat(event.id()).matches("\\d+");
			assertThat(event.occurredAt()).isBetween(before, after);
			assertThat(event.identityId()).isNull();
			assertThat(event.target().id()).isEqualTo(id.toString());
			assertThat(event.target().type()).isEqualTo("Member");
			assertThat(event.target().data()).containsEntry("id", id.toString())
				.containsEntry("name", "Ada")
				.containsEntry("email", "ada@example.com")
				.containsKey("createdAt")
				.doesNotContainKey("created_at");
			assertThat(event.target().previousData()).isNull();
		});
		assertThat(this.subscribers.of("welcomeTyped")).hasSize(1);
		assertThat(this.subscribers.of("memberHistory")).isEmpty();
	}

	@Test
	void anUpdateCarriesTheRowBeforeTheChangeEvenWhenItWasWrittenBeforeAuditing() {
		UUID id = UUID.randomUUID();
		this.jdbc.execute("ALTER TABLE member DISABLE TRIGGER USER");
		try {
			this.jdbc.update("INSERT INTO member (id, name, email) VALUES (?, 'Grace', 'grace@example.com')", id);
		}
		finally {
			this.jdbc.execute("ALTER TABLE member ENABLE TRIGGER USER");
		}

		this.transactions.executeWithoutResult(
				(status) -> this.jdbc.update("UPDATE member SET email = 'hopper@example.com' WHERE id = ?", id));

		assertThat(this.subscribers.of("memberHistory")).singleElement().satisfies((event) -> {
			assertThat(event.eventName()).isEqualTo("member.updated");
			assertThat(event.target().id()).isEqualTo(id.toString());
			assertThat(event.target().data()).containsEntry("email", "hopper@example.com")
				.containsEntry("name", "Grace");
			assertThat(event.target().previousData()).containsEntry("email", "grace@example.com")
				.containsEntry("name", "Grace")
				.containsKey("createdAt");
		});
	}

	@Test
	void anUpdateThatChangesNothingIsNotAnEvent() {
		UUID id = this.transactions.execute((status) -> insertMember("Alan", "alan@example.com"));
		this.subscribers.clear();

		this.transactions
			.executeWithoutResult((status) -> this.jdbc.update("UPDATE member SET name = name WHERE id = ?", id));

		assertThat(this.subscribers.events).isEmpty();
		assertThat(this.jdbc.queryForObject("SELECT count(*) FROM keel_audit WHERE op = 'updated' AND data->>'id' = ?",
				Integer.class, id.toString()))
			.isZero();
	}

	@Test
	void aDeleteCarriesTheDeletedRowAsDataAndPreviousData() {
		UUID id = this.transactions.execute((status) -> insertMember("Edsger", "edsger@example.com"));

		this.transactions.executeWithoutResult((status) -> this.jdbc.update("DELETE FROM member WHERE id = ?", id));

		assertThat(this.subscribers.of("memberHistory")).singleElement().satisfies((event) -> {
			assertThat(event.eventName()).isEqualTo("member.deleted");
			assertThat(event.target().id()).isEqualTo(id.toString());
			assertThat(event.target().data()).containsEntry("name", "Edsger");
			assertThat(event.target().previousData()).isEqualTo(event.target().data());
		});
	}

	@Test
	void aMultiRowStatementIsOneEventPerRowEachWithItsOwnPreviousData() {
		this.transactions.executeWithoutResult((status) -> this.jdbc
			.update("INSERT INTO member (name, email) SELECT 'm' || i, 'm' || i || '@example.com' "
					+ "FROM generate_series(1, 50) i"));
		assertThat(this.subscribers.of("welcome")).hasSize(50);

		this.transactions.executeWithoutResult(
				(status) -> this.jdbc.update("UPDATE member SET email = upper(email) WHERE name LIKE 'm%'"));

		List<Event> updates = this.subscribers.of("memberHistory");
		assertThat(updates).hasSize(50).allSatisfy((event) -> {
			Map<String, Object> before = event.target().previousData();
			assertThat(before).isNotNull();
			assertThat(before.get("id")).isEqualTo(event.target().id());
			assertThat(event.target().data().get("email")).isEqualTo(before.get("email").toString().toUpperCase());
		});
		assertThat(updates).extracting(Event::id).doesNotHaveDuplicates();
	}

	@Test
	void aCompositeKeyIsTheTargetIdAndPairsUpdates() {
		UUID member = UUID.randomUUID();
		this.transactions.executeWithoutResult((status) -> this.jdbc.update(
				"INSERT INTO member_profile (member_id, kind, bio) VALUES (?, 'work', 'a'), (?, 'home', 'b')", member,
				member));
		this.transactions.executeWithoutResult(
				(status) -> this.jdbc.update("UPDATE member_profile SET bio = bio || '!' WHERE member_id = ?", member));

		assertThat(this.subscribers.of("profiles")).hasSize(4)
			.extracting((event) -> event.target().id())
			.containsOnly(member + ",work", member + ",home");
		assertThat(this.subscribers.of("profiles")).filteredOn((event) -> event.eventName().endsWith(".updated"))
			.hasSize(2)
			.allSatisfy((event) -> assertThat(event.target().data().get("bio"))
				.isEqualTo(event.target().previousData().get("bio") + "!"));
		assertThat(this.subscribers.of("profiles").get(0).target().type()).isEqualTo("MemberProfile");
		assertThat(this.subscribers.of("profiles").get(0).target().data()).containsKey("memberId");
	}

	@Test
	void rolledBackWritesAreNeverDelivered() {
		this.transactions.executeWithoutResult((status) -> {
			insertMember("Rollback", "rollback@example.com");
			status.setRollbackOnly();
		});
		assertThatThrownBy(() -> this.transactions.executeWithoutResult((status) -> {
			insertMember("Thrown", "thrown@example.com");
			throw new IllegalStateException("boom");
		})).hasMessage("boom");

		assertThat(this.subscribers.events).isEmpty();
		assertThat(this.jdbc.queryForObject(
				"SELECT count(*) FROM keel_audit WHERE data->>'name' IN ('Rollback', 'Thrown')", Integer.class))
			.isZero();
	}

	@Test
	void aFailingSubscriberBreaksNeitherTheCommitNorTheOtherSubscribers() {
		UUID id = this.transactions.execute((status) -> insertMember("fail", "fail@example.com"));

		assertThat(this.jdbc.queryForObject("SELECT count(*) FROM member WHERE id = ?", Integer.class, id)).isOne();
		assertThat(this.subscribers.of("welcome")).hasSize(1);
		assertThat(this.subscribers.of("welcomeTyped")).hasSize(1);
		String eventId = this.subscribers.of("welcome").get(0).id();
		await().untilAsserted(() -> assertThat(this.jdbc.queryForList(
				"SELECT subscriber, status, attempts, last_error FROM keel_audit_delivery WHERE audit_id = ?",
				Long.parseLong(eventId)))
			.singleElement()
			.satisfies((row) -> {
				assertThat(row).containsEntry("subscriber", "failing")
					.containsEntry("status", "pending")
					.containsEntry("attempts", 1);
				assertThat((String) row.get("last_error")).contains("IllegalStateException").contains("fail");
			}));
	}

	@Test
	void identityAndTraceOfTheWritingTransactionAreRecordedAndPassedOn() {
		CurrentUser.name.set("user-42");
		this.transactions.executeWithoutResult((status) -> insertMember("Traced", "traced@example.com"));

		Event event = this.subscribers.of("welcome").get(0);
		assertThat(event.identityId()).isEqualTo("user-42");
		String traceparent = this.subscribers.traceparents.get(0);
		assertThat(traceparent).matches("00-[0-9a-f]{32}-[0-9a-f]{16}-01");
		Map<String, Object> row = this.jdbc.queryForMap(
				"SELECT identity_id, trace_id, span_id FROM keel_audit WHERE id = ?", Long.parseLong(event.id()));
		assertThat(row).containsEntry("identity_id", "user-42");
		assertThat(traceparent).isEqualTo("00-" + row.get("trace_id") + "-" + row.get("span_id") + "-01");
	}

	@Test
	void aTransactionUnderNoTraceGetsOneOfItsOwnSharedByAllItsRows() {
		this.transactions.executeWithoutResult((status) -> {
			insertMember("first", "first@example.com");
			this.jdbc.update("INSERT INTO note (body) VALUES ('same transaction')");
		});
		this.transactions.executeWithoutResult((status) -> insertMember("second", "second@example.com"));
		this.jdbc.update("INSERT INTO note (body) VALUES ('outside, untraced')");

		List<Map<String, Object>> traces = this.jdbc.queryForList("SELECT trace_id, span_id FROM keel_audit "
				+ "WHERE data->>'name' IN ('first', 'second') OR data->>'body' IN ('same transaction', "
				+ "'outside, untraced') ORDER BY id");
		assertThat(traces).hasSize(4).allSatisfy((row) -> {
			assertThat((String) row.get("trace_id")).matches("[0-9a-f]{32}");
			assertThat((String) row.get("span_id")).matches("[0-9a-f]{16}");
		});
		assertThat(traces.get(1)).isEqualTo(traces.get(0));
		assertThat(traces.stream().map((row) -> row.get("trace_id")).distinct()).hasSize(3);
		assertThat(this.subscribers.traceparents)
			.contains("00-" + traces.get(0).get("trace_id") + "-" + traces.get(0).get("span_id") + "-01");
	}

	@Test
	void aParameterIsBoundFromTheRowData() {
		UUID id = this.transactions.execute((status) -> insertMember("Barbara", "barbara@example.com"));

		assertThat(this.subscribers.members).singleElement().satisfies((member) -> {
			assertThat(member.id()).isEqualTo(id);
			assertThat(member.name()).isEqualTo("Barbara");
			assertThat(member.createdAt()).isNotNull();
		});
	}

	@Test
	void subscribersWriteInTransactionsOfTheirOwn() {
		UUID id = this.transactions.execute((status) -> insertMember("welcome-me", "w@example.com"));

		// committed by the subscriber itself, not lost with the finished transaction
		assertThat(
				this.jdbc.queryForObject("SELECT count(*) FROM welcome_email WHERE member_id = ?", Integer.class, id))
			.isOne();
	}

	@Test
	void writesOutsideSpringTransactionsAreCapturedWithoutAScope() {
		this.jdbc.update("INSERT INTO note (body) VALUES ('outside')");

		assertThat(this.jdbc
			.queryForMap("SELECT table_name, op, scope_id FROM keel_audit WHERE data->>'body' = 'outside'"))
			.containsEntry("table_name", "note")
			.containsEntry("op", "created")
			.containsEntry("scope_id", null);
	}

	@Test
	void deliveredRowsAreMarkedProcessed() {
		UUID id = this.transactions.execute((status) -> insertMember("Mark", "mark@example.com"));
		this.transactions.executeWithoutResult((status) -> this.jdbc.update("INSERT INTO note (body) VALUES ('n')"));

		await().untilAsserted(() -> assertThat(this.jdbc
			.queryForObject("SELECT count(*) FROM keel_audit WHERE (data->>'id' = ? OR data->>'body' = 'n') "
					+ "AND event_processed_at IS NOT NULL", Integer.class, id.toString()))
			.isEqualTo(2));
	}

	private UUID insertMember(String name, String email) {
		UUID id = UUID.randomUUID();
		this.jdbc.update("INSERT INTO member (id, name, email) VALUES (?, ?, ?)", id, name, email);
		return id;
	}

	record Member(UUID id, String name, String email, Instant createdAt) {
	}

	static final class CurrentUser {

		static final ThreadLocal<String> name = new ThreadLocal<>();

	}

	static class Subscribers extends RecordingSubscriber {

		final List<Member> members = new CopyOnWriteArrayList<>();

		private final JdbcTemplate jdbc;

		Subscribers(JdbcTemplate jdbc) {
			this.jdbc = jdbc;
		}

		@EventSubscriber("member.created")
		void welcome(Event event) {
			record("welcome", event);
			if (event.target().data().get("name").equals("welcome-me")) {
				this.jdbc.update("INSERT INTO welcome_email (member_id) VALUES (?::uuid)", event.target().id());
			}
		}

		@EventSubscriber(value = "member.created", name = "welcomeTyped")
		void onCreated(Member member, Event event) {
			this.members.add(member);
			record("welcomeTyped", event);
		}

		@EventSubscriber(value = { "member.updated", "member.deleted" }, name = "memberHistory")
		void history(Event event) {
			record("memberHistory", event);
		}

		@EventSubscriber(value = { "member_profile.created", "member_profile.updated" }, name = "profiles")
		void profile(EventTarget target, Event event) {
			record("profiles", event);
		}

		@EventSubscriber("member.created")
		void failing(Event event) {
			if (event.target().data().get("name").equals("fail")) {
				throw new IllegalStateException("fail on purpose");
			}
		}

	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class App {

		@Bean
		Subscribers subscribers(JdbcTemplate jdbc) {
			return new Subscribers(jdbc);
		}

		@Bean
		IdentityResolver identityResolver() {
			return CurrentUser.name::get;
		}

		@Bean
		EventHandler recordingTraceHandler(Subscribers subscribers,
				dev.pgevents.internal.dispatch.SubscriberRegistry registry) {
			EventHandler invoking = registry.invokingHandler();
			return (subscriber, event, traceparent) -> {
				subscribers.traceparents.add(traceparent);
				invoking.handle(subscriber, event, traceparent);
			};
		}

	}

}
