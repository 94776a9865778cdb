package dev.pgevents;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

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
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.awaitility.Awaitility.await;

/**
 * A failing subscriber is retried alone, with backoff, until it succeeds or its attempts
 * run out; a dead letter is listed and replayed through {@link EventDeliveries}.
 */
@WithTestDatabase
@SpringBootTest(classes = RetryTests.App.class,
		properties = { TestApplications.SQL_INIT, TestApplications.MEMBER_SCHEMA, "events.relay.poll-interval=50ms",
				"events.retry.max-attempts=4", "events.retry.initial-delay=40ms", "events.retry.multiplier=2",
				"events.retry.max-delay=200ms" })
class RetryTests {

	@Autowired
	JdbcTemplate jdbc;

	@Autowired
	TransactionTemplate transactions;

	@Autowired
	Flaky flaky;

	@Autowired
	EventDeliveries deliveries;

	@BeforeEach
	void clear() {
		this.flaky.calls.clear();
		this.flaky.steady.clear();
		this.flaky.failuresLeft.clear();
	}

	@Test
	void aSubscriberFailingItsFirstAttemptsIsDeliveredOnTheNextAndTheOthersAreNotCalledAgain() {
		this.flaky.failuresLeft.put("twice", new AtomicInteger(2));
		String id = insert("twice");

		await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(this.flaky.calls.get(id)).hasValue(3));
		await().untilAsserted(
				() -> assertThat(ledger(id)).containsEntry("status", "delivered").containsEntry("attempts", 3));
		assertThat(this.flaky.steady).containsExactly(id);
	}

	@Test
	void aSubscriberThatAlwaysFailsIsDeadLetteredAfterMaxAttemptsAndDeliveredByAReplay() {
		this.flaky.failuresLeft.put("always", new AtomicInteger(Integer.MAX_VALUE));
		Instant before = Instant.now();
		String id = insert("always");

		await().atMost(Duration.ofSeconds(10))
			.untilAsserted(() -> assertThat(ledger(id)).containsEntry("status", "dead").containsEntry("attempts", 4));
		assertThat(this.flaky.calls.get(id)).hasValue(4);
		List<Delivery> dead = this.deliveries
			.find(DeliveryQuery.dead().subscriber("flaky").eventName("member.created").since(before));
		assertThat(dead).singleElement().satisfies((delivery) -> {
			assertThat(delivery.eventId()).isEqualTo(id);
			assertThat(delivery.status()).isEqualTo(Delivery.Status.DEAD);
			assertThat(delivery.attempts()).isEqualTo(4);
			assertThat(delivery.lastError()).contains("IllegalStateException").contains("always");
		});
		assertThat(this.deliveries.find(DeliveryQuery.dead().subscriber("nobody"))).isEmpty();
		// patterns, as in @EventSubscriber
		assertThat(this.deliveries.find(DeliveryQuery.dead().subscriber("flaky").eventName("member.*").since(before)))
			.extracting(Delivery::eventId)
			.containsExactly(id);
		assertThat(this.deliveries.find(DeliveryQuery.dead().subscriber("flaky").eventName("*.created").since(before)))
			.extracting(Delivery::eventId)
			.containsExactly(id);
		assertThat(this.deliveries.find(DeliveryQuery.dead().subscriber("flaky").eventName("*.deleted").since(before)))
			.isEmpty();

		this.flaky.failuresLeft.remove("always"); // fixed
		assertThat(this.deliveries.replay(id, "flaky")).isTrue();

		await().atMost(Duration.ofSeconds(10))
			.untilAsserted(() -> assertThat(ledger(id)).containsEntry("status", "delivered")
				.containsEntry("attempts", 1)
				.containsEntry("replays", 1));
		assertThat(this.flaky.calls.get(id)).hasValue(5);
		assertThat(this.deliveries.replay(id, "nobody")).isFalse();
		assertThatIllegalArgumentException().isThrownBy(() -> this.deliveries.replay("member-7", "flaky"))
			.withMessageContaining("'member-7' is not an event id");
		assertThatIllegalArgumentException().isThrownBy(() -> this.deliveries.skip("", "flaky"))
			.withMessageContaining("'' is not an event id");
	}

	@Test
	void replayAllReplaysEveryMatchingDeadLetter() {
		this.flaky.failuresLeft.put("batch", new AtomicInteger(Integer.MAX_VALUE));
		List<String> ids = List.of(insert("batch"), insert("batch"), insert("batch"));
		await().atMost(Duration.ofSeconds(10))
			.untilAsserted(
					() -> assertThat(ids).allSatisfy((id) -> assertThat(ledger(id)).containsEntry("status", "dead")));

		this.flaky.failuresLeft.remove("batch");
		assertThat(this.deliveries.replayAll(DeliveryQuery.dead().subscriber("flaky"))).isGreaterThanOrEqualTo(3);

		await().atMost(Duration.ofSeconds(10))
			.untilAsserted(() -> assertThat(ids)
				.allSatisfy((id) -> assertThat(ledger(id)).containsEntry("status", "delivered")));
	}

	@Test
	void anEventWhoseDataCannotBeBoundIsDeadLetteredAtOnce() {
		String id = insert("not-a-number");

		await().atMost(Duration.ofSeconds(10))
			.untilAsserted(() -> assertThat(this.jdbc.queryForMap(
					"SELECT status, attempts, last_error FROM keel_audit_delivery WHERE audit_id = ? AND subscriber = 'typed'",
					Long.parseLong(id)))
				.containsEntry("status", "dead")
				.containsEntry("attempts", 1)
				.hasEntrySatisfying("last_error", (error) -> assertThat((String) error).contains("Cannot bind")));
	}

	@Test
	void anErrorThrownByTheSubscriberIsRecordedAsItself() {
		this.flaky.failuresLeft.put("overflowing", new AtomicInteger(1));
		String id = insert("overflowing");

		await().atMost(Duration.ofSeconds(10))
			.untilAsserted(() -> assertThat(ledger(id)).containsEntry("status", "delivered"));
		assertThat((String) ledger(id).get("last_error"))
			.isEqualTo("java.lang.StackOverflowError: recursing on purpose");
	}

	@Test
	void aRetryingEventDoesNotHoldUpLaterEvents() {
		this.flaky.failuresLeft.put("stuck", new AtomicInteger(Integer.MAX_VALUE));
		String stuck = insert("stuck");
		String later = insert("later");

		assertThat(this.flaky.steady).containsExactly(stuck, later);
		assertThat(this.flaky.calls.get(later)).hasValue(1);
		await().atMost(Duration.ofSeconds(10))
			.untilAsserted(() -> assertThat(ledger(stuck)).containsEntry("status", "dead"));
	}

	private String insert(String name) {
		return this.transactions
			.execute(
					(status) -> this.jdbc
						.queryForObject("INSERT INTO member (name, email) VALUES (?, ?) RETURNING id", String.class,
								name, name + "@example.com")
						.toString())
			.transform((memberId) -> this.jdbc.queryForObject(
					"SELECT id::text FROM keel_audit WHERE op = 'created' AND data->>'id' = ?", String.class,
					memberId));
	}

	private Map<String, Object> ledger(String id) {
		List<Map<String, Object>> rows = this.jdbc.queryForList(
				"SELECT status, attempts, replays, last_error FROM keel_audit_delivery WHERE audit_id = ? AND subscriber = 'flaky'",
				Long.parseLong(id));
		return rows.isEmpty() ? Map.of() : rows.get(0);
	}

	record Numbered(int name) {
	}

	static class Flaky {

		final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();

		final Map<String, AtomicInteger> failuresLeft = new ConcurrentHashMap<>();

		final List<String> steady = new CopyOnWriteArrayList<>();

		@EventSubscriber("member.created")
		void flaky(Event event) {
			this.calls.computeIfAbsent(event.id(), (id) -> new AtomicInteger()).incrementAndGet();
			AtomicInteger left = this.failuresLeft.get((String) event.target().data().get("name"));
			if (left != null && left.getAndDecrement() > 0) {
				if ("overflowing".equals(event.target().data().get("name"))) {
					throw new StackOverflowError("recursing on purpose");
				}
				throw new IllegalStateException("failing on purpose: " + event.target().data().get("name"));
			}
		}

		@EventSubscriber("member.created")
		void steady(Event event) {
			this.steady.add(event.id());
		}

		@EventSubscriber("member.created")
		void typed(Numbered numbered) {
			// binds only names that are numbers
		}

	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class App {

		@Bean
		Flaky flaky() {
			return new Flaky();
		}

	}

}
