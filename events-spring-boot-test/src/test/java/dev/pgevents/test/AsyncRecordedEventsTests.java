package dev.pgevents.test;

import java.time.Duration;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.Test;

import dev.pgevents.Delivery;
import dev.pgevents.WithTestDatabase;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link RecordedEvents#awaitQuiet} in async mode, and dead letters.
 */
@WithTestDatabase
@SpringBootTest(classes = KitSubscribers.App.class,
		properties = { "spring.sql.init.mode=always", "spring.sql.init.schema-locations=classpath:member-schema.sql",
				"events.dispatch.mode=async", "events.retry.max-attempts=1" })
class AsyncRecordedEventsTests {

	@Autowired
	RecordedEvents recordedEvents;

	@Autowired
	JdbcTemplate jdbc;

	@Autowired
	TransactionTemplate transactions;

	@Autowired
	KitSubscribers subscribers;

	@Test
	void awaitQuietWaitsForTheDispatchExecutor() {
		this.transactions.executeWithoutResult((status) -> this.jdbc
			.update("INSERT INTO member (name, email) SELECT 'm' || i, 'm' || i FROM generate_series(1, 5) i"));
		List<String> ids = this.recordedEvents.named("member.created")
			.stream()
			.map((event) -> event.target().id())
			.toList();
		assertThat(ids).hasSize(5);

		this.recordedEvents.awaitQuiet(Duration.ofSeconds(30));

		// 100 ms per event on a dispatch thread after commit: all are done because
		// awaitQuiet waited
		assertThat(this.subscribers.welcomed).map(UUID::toString).containsAll(ids);
	}

	@Test
	void deadLettersAreDoneAndShowTheirError() {
		this.jdbc.update("INSERT INTO member_profile (member_id, kind) VALUES (?, 'public')", UUID.randomUUID());

		this.recordedEvents.awaitQuiet(Duration.ofSeconds(30));

		assertThat(this.recordedEvents.deadLetters()).singleElement().satisfies((delivery) -> {
			assertThat(delivery.subscriber()).isEqualTo("profiles");
			assertThat(delivery.eventName()).isEqualTo("member_profile.created");
			assertThat(delivery.status()).isEqualTo(Delivery.Status.DEAD);
			assertThat(delivery.attempts()).isEqualTo(1);
			assertThat(delivery.lastError()).isEqualTo("java.lang.IllegalStateException: the profile service is down");
		});
		assertThat(this.recordedEvents.deliveries()).hasSize(1);
	}

}
