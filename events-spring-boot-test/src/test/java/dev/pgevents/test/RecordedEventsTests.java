package dev.pgevents.test;

import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;

import dev.pgevents.Delivery;
import dev.pgevents.Event;
import dev.pgevents.WithTestDatabase;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.annotation.Transactional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

/**
 * {@link RecordedEvents} in sync mode: recording, clearing, waiting, failures, the
 * test-managed transaction.
 */
@WithTestDatabase
@SpringBootTest(classes = KitSubscribers.App.class,
		properties = { "spring.sql.init.mode=always", "spring.sql.init.schema-locations=classpath:member-schema.sql",
				"events.audit.tables=note", "events.retry.initial-delay=1h", "events.retry.max-delay=1h" })
class RecordedEventsTests {

	@Autowired
	RecordedEvents recordedEvents;

	@Autowired
	JdbcTemplate jdbc;

	@Autowired
	KitSubscribers subscribers;

	@Value("${spring.datasource.url}")
	String url;

	@Test
	void recordsEveryCommittedChangeInOrderWithOrWithoutASubscriber() {
		UUID member = insertMember("ada@example.com");
		this.jdbc.update("UPDATE member SET email = 'ada@lovelace.dev' WHERE id = ?", member);
		this.jdbc.update("INSERT INTO note (body) VALUES ('no subscriber takes notes')");
		this.jdbc.update("DELETE FROM member WHERE id = ?", member);

		assertThat(this.recordedEvents).containsExactly("member.created", "member.updated", "note.created",
				"member.deleted");
		assertThat(this.recordedEvents).contains("member.updated")
			.singleElement()
			.hasTargetId(member)
			.hasType("Member")
			.hasData("email", "ada@lovelace.dev")
			.hasPreviousData("email", "ada@example.com")
			.hasChangedFields("email")
			.hasIdentity(null);
		assertThat(this.recordedEvents).contains("note.created")
			.singleElement()
			.hasData("body", "no subscriber takes notes");
		assertThat(this.recordedEvents.named("member.created")).extracting(Event::id)
			.containsExactly(this.recordedEvents.all().get(0).id());
		// patterns, as in @EventSubscriber
		assertThat(this.recordedEvents.named("member.*")).extracting(Event::eventName)
			.containsExactly("member.created", "member.updated", "member.deleted");
		assertThat(this.recordedEvents).contains("*.created").hasSize(2);
	}

	@Test
	void recordingStartsAgainBeforeEachTestMethod() {
		// one of two methods of the class: whichever runs second sees only its own note
		this.jdbc.update("INSERT INTO note (body) VALUES ('first')");
		assertThat(this.recordedEvents).containsExactly("note.created");
		assertThat(this.recordedEvents).contains("note.created").singleElement().hasData("body", "first");
	}

	@Test
	void recordingStartsAgainBeforeEachTestMethodToo() {
		this.jdbc.update("INSERT INTO note (body) VALUES ('second')");
		assertThat(this.recordedEvents).containsExactly("note.created");
		assertThat(this.recordedEvents).contains("note.created").singleElement().hasData("body", "second");
	}

	@Test
	void awaitQuietWaitsForAnOutsideWriteThatTheRelayDelivers() throws Exception {
		UUID member = UUID.randomUUID();
		try (Connection outside = DriverManager.getConnection(this.url)) {
			outside.createStatement()
				.execute("INSERT INTO member (id, name, email) VALUES ('" + member + "', 'outside', 'o@example.com')");
		}

		this.recordedEvents.awaitQuiet(Duration.ofSeconds(30));

		// the subscriber takes 200 ms for each event: it is done because awaitQuiet
		// waited
		assertThat(this.subscribers.welcomed).contains(member);
		assertThat(this.recordedEvents).contains("member.created").singleElement().hasTargetId(member);
	}

	@Test
	void awaitQuietNamesTheSubscriberThatKeepsFailing() {
		UUID member = insertMember("grace@example.com");
		this.jdbc.update("INSERT INTO member_profile (member_id, kind, bio) VALUES (?, 'public', 'hi')", member);

		assertThatExceptionOfType(AssertionError.class)
			.isThrownBy(() -> this.recordedEvents.awaitQuiet(Duration.ofMillis(300)))
			.withMessageStartingWith("Events were still being delivered after PT0.3S:\n  - event #")
			.withMessageContaining("(member_profile.created) to 'profiles': 1 attempt failed, next at ")
			.withMessageContaining("last error: java.lang.IllegalStateException: the profile service is down")
			.withMessageContaining("The application's subscribers: {");
		assertThat(this.recordedEvents.deliveries()).singleElement().satisfies((delivery) -> {
			assertThat(delivery.subscriber()).isEqualTo("profiles");
			assertThat(delivery.status()).isEqualTo(Delivery.Status.PENDING);
			assertThat(delivery.attempts()).isEqualTo(1);
			assertThat(delivery.lastError()).isEqualTo("java.lang.IllegalStateException: the profile service is down");
		});
		assertThat(this.recordedEvents.deadLetters()).isEmpty();
	}

	@Test
	void eventsOfTheKitsBuildersEqualTheLibrarysOwn() {
		Long id = this.jdbc.queryForObject("INSERT INTO note (body) VALUES ('before') RETURNING id", Long.class);
		this.jdbc.update("UPDATE note SET body = 'after' WHERE id = ?", id);
		this.jdbc.update("INSERT INTO member_profile (member_id, kind, bio) VALUES (?, 'work', null)", new UUID(0, 7));

		List<Event> recorded = this.recordedEvents.all();
		assertThat(recorded.get(0).target())
			.isEqualTo(TestEvents.created("note", Map.of("id", id, "body", "before")).target());
		assertThat(recorded.get(1).target())
			.isEqualTo(TestEvents.updated("note", Map.of("id", id, "body", "before"), Map.of("id", id, "body", "after"))
				.target());
		java.util.Map<String, Object> profile = new java.util.LinkedHashMap<>();
		profile.put("member_id", new UUID(0, 7));
		profile.put("kind", "work");
		profile.put("bio", null);
		assertThat(recorded.get(2).target())
			.isEqualTo(TestEvents.table("member_profile").key("member_id", "kind").created(profile).target());
	}

	@Test
	void failureMessagesShowWhatWasRecorded() {
		UUID member = insertMember("ada@example.com");

		assertThatExceptionOfType(AssertionError.class)
			.isThrownBy(() -> assertThat(this.recordedEvents).contains("member.deleted"))
			.withMessage("Expected an event 'member.deleted' to be recorded, but the recorded events were:\n"
					+ "  - member.created #" + this.recordedEvents.all().get(0).id() + " (target " + member + ") "
					+ this.recordedEvents.all().get(0).target().data());
		assertThatExceptionOfType(AssertionError.class)
			.isThrownBy(() -> assertThat(this.recordedEvents).doesNotContain("member.created"))
			.withMessageStartingWith(
					"Expected no event 'member.created' to be recorded, but 1 were:\n" + "  - member.created #");
		assertThatExceptionOfType(AssertionError.class).isThrownBy(
				() -> assertThat(this.recordedEvents).contains("member.created").matching("email", "grace@example.com"))
			.withMessageStartingWith("Expected an event member.created with email = grace@example.com, but none of "
					+ "these 1 matched:\n  - member.created #");
		assertThatExceptionOfType(AssertionError.class)
			.isThrownBy(() -> assertThat(this.recordedEvents).contains("member.created")
				.singleElement()
				.hasData("email", "grace@example.com"))
			.withMessageEndingWith(" to have data.email \"grace@example.com\", but it was \"ada@example.com\"");
		assertThatExceptionOfType(AssertionError.class)
			.isThrownBy(() -> assertThat(this.recordedEvents).contains("member.created")
				.singleElement()
				.hasData("mail", "ada@example.com"))
			.withMessageEndingWith("but data has no field 'mail'; its fields: [id, name, email, createdAt]");
		assertThatExceptionOfType(AssertionError.class)
			.isThrownBy(() -> assertThat(this.recordedEvents).contains("member.created")
				.singleElement()
				.hasPreviousData("email", "x"))
			.withMessageEndingWith("but it has no previous data (a created row)");
	}

	@Test
	@Transactional
	void aTestTransactionCommitsNothingUntilTheTestCommitsIt() {
		insertMember("linus@example.com");

		assertThatExceptionOfType(AssertionError.class)
			.isThrownBy(() -> assertThat(this.recordedEvents).contains("member.created"))
			.withMessage("Expected an event 'member.created' to be recorded, but the recorded events were:\n"
					+ "  (none)\nNote: the test method runs in a test-managed transaction (@Transactional), "
					+ "which Spring rolls back at its end: its writes have not committed, so they are no events "
					+ "yet. Commit them with recordedEvents.commitTestTransaction().");

		this.recordedEvents.commitTestTransaction();

		assertThat(this.recordedEvents).contains("member.created").singleElement().hasData("name", "linus");
	}

	@Test
	void committingOutsideATestTransactionIsRefused() {
		assertThatIllegalStateException().isThrownBy(this.recordedEvents::commitTestTransaction)
			.withMessageStartingWith("No test-managed transaction is active");
	}

	private UUID insertMember(String email) {
		UUID id = UUID.randomUUID();
		this.jdbc.update("INSERT INTO member (id, name, email) VALUES (?, ?, ?)", id,
				email.substring(0, email.indexOf('@')), email);
		return id;
	}

}
