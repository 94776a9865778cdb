package dev.pgevents.test;

import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;

import org.junit.jupiter.api.Test;

import dev.pgevents.Event;
import dev.pgevents.EventDeliveries;
import dev.pgevents.WithTestDatabase;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * {@link EventScenario} in async mode: waiting for an event, for a delivery (after commit
 * and by the relay), dead letters and timeouts.
 */
@WithTestDatabase
@SpringBootTest(classes = KitSubscribers.App.class,
		properties = { "spring.sql.init.mode=always", "spring.sql.init.schema-locations=classpath:member-schema.sql",
				"events.dispatch.mode=async", "events.retry.max-attempts=1" })
class EventScenarioTests {

	@Autowired
	EventScenario scenario;

	@Autowired
	JdbcTemplate jdbc;

	@Autowired
	TransactionTemplate transactions;

	@Autowired
	KitSubscribers subscribers;

	@Value("${spring.datasource.url}")
	String url;

	@Test
	void waitsForAnEventThatMatches() {
		Event event = this.scenario.stimulate(() -> insertMember("ada@example.com"))
			.andWaitForEvent("member.created")
			.matching((created) -> "ada@example.com".equals(created.target().data().get("email")))
			.toArrive();

		EventAssert.assertThat(event).hasName("member.created").hasData("name", "ada");
	}

	@Test
	void waitsForASubscribersDeliveryAfterCommit() {
		UUID member = UUID.randomUUID();
		this.scenario
			.stimulate(() -> this.transactions.executeWithoutResult((status) -> this.jdbc
				.update("INSERT INTO member (id, name, email) VALUES (?, 'grace', 'grace@example.com')", member)))
			.andWaitForDelivery("welcome")
			.matching((event) -> event.target().id().equals(member.toString()))
			// the subscriber takes 200 ms: it has run because the scenario waited for it
			.toArriveAndVerify((event) -> assertThat(this.subscribers.welcomed).contains(member));
	}

	@Test
	void waitsForADeliveryOfAnOutsideWriteByTheRelay() {
		UUID member = UUID.randomUUID();
		this.scenario.stimulate(() -> {
			try (Connection outside = DriverManager.getConnection(this.url)) {
				outside.createStatement()
					.execute("INSERT INTO member (id, name, email) VALUES ('" + member + "', 'o', 'o@example.com')");
			}
		})
			.andWaitForDelivery("welcome")
			.named("member.created")
			.toArriveAndVerify((event) -> assertThat(this.subscribers.welcomed).contains(member));
	}

	@Test
	void aDeadLetteredDeliveryFailsTheWaitAtOnce() {
		long started = System.nanoTime();
		assertThatExceptionOfType(AssertionError.class)
			.isThrownBy(() -> this.scenario.waitAtMost(Duration.ofMinutes(5))
				.stimulate(() -> this.jdbc.update("INSERT INTO member_profile (member_id, kind) VALUES (?, 'x')",
						UUID.randomUUID()))
				.andWaitForDelivery("profiles")
				.toArrive())
			.withMessageStartingWith("Subscriber 'profiles' did not take member_profile.created #")
			.withMessageEndingWith(
					": dead-lettered after 1 attempt, last error: java.lang.IllegalStateException: the profile service is down");
		assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofMinutes(5));
	}

	@Test
	void aTimeoutShowsWhatCommitted() {
		assertThatExceptionOfType(AssertionError.class)
			.isThrownBy(() -> this.scenario.waitAtMost(Duration.ofMillis(300))
				.stimulate(() -> insertMember("linus@example.com"))
				.andWaitForDelivery("welcome")
				.matching((event) -> "nobody@example.com".equals(event.target().data().get("email")))
				.toArrive())
			.withMessageStartingWith("Subscriber 'welcome' took no event matching the expectation within PT0.3S. "
					+ "Events committed since the stimulus:\n  - member.created #")
			.withMessageContaining("email=linus@example.com");
		assertThatExceptionOfType(AssertionError.class)
			.isThrownBy(() -> this.scenario.waitAtMost(Duration.ofMillis(300)).stimulate(() -> {
			}).andWaitForEvent("member.deleted").toArrive())
			.withMessage("No event 'member.deleted' committed within PT0.3S. Events committed since the stimulus:\n"
					+ "  (none)");
	}

	@Test
	void waitsForTheSnapshotOfABackfillAndRecordsIt(@Autowired EventDeliveries deliveries,
			@Autowired RecordedEvents recordedEvents) {
		this.jdbc.update("INSERT INTO note (body) VALUES ('kept')");

		Event snapshot = this.scenario.stimulate(() -> deliveries.backfill("noteSnapshots", "note"))
			.andWaitForDelivery("noteSnapshots")
			.matching((event) -> "kept".equals(event.target().data().get("body")))
			.toArrive();

		EventAssert.assertThat(snapshot).hasName("note.snapshot").hasData("body", "kept");
		assertThat(recordedEvents.named("note.snapshot")).extracting(Event::id).contains(snapshot.id());
		assertThat(recordedEvents.named("note.*")).extracting(Event::eventName).containsOnly("note.created");

		// a rewind delivers the same snapshot again: the scenario sees that delivery
		Event again = this.scenario
			.stimulate(() -> deliveries.rewind("noteSnapshots", Instant.now().minusSeconds(3600)))
			.andWaitForDelivery("noteSnapshots")
			.matching((event) -> event.id().equals(snapshot.id()))
			.toArrive();
		assertThat(again.id()).isEqualTo(snapshot.id());
		recordedEvents.awaitQuiet(Duration.ofSeconds(10));
	}

	@Test
	void anUnknownSubscriberIsRefused() {
		assertThatIllegalArgumentException().isThrownBy(() -> this.scenario.stimulate(() -> {
		}).andWaitForDelivery("welcom"))
			.withMessageStartingWith("The application has no subscriber 'welcom'; its subscribers: [");
	}

	private void insertMember(String email) {
		this.jdbc.update("INSERT INTO member (name, email) VALUES (?, ?)", email.substring(0, email.indexOf('@')),
				email);
	}

}
