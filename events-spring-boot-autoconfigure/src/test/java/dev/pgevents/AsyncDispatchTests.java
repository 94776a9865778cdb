package dev.pgevents;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * With {@code events.dispatch.mode=async} subscribers run on the dispatch executor, not
 * in the committing thread.
 */
@WithTestDatabase
@SpringBootTest(classes = AsyncDispatchTests.App.class,
		properties = { TestApplications.SQL_INIT, TestApplications.MEMBER_SCHEMA, "events.dispatch.mode=async" })
class AsyncDispatchTests {

	@Autowired
	JdbcTemplate jdbc;

	@Autowired
	TransactionTemplate transactions;

	@Autowired
	Subscribers subscribers;

	@Test
	void subscribersRunOnTheDispatchExecutorAfterCommit() {
		this.subscribers.clear();
		this.transactions.executeWithoutResult((status) -> this.jdbc
			.update("INSERT INTO member (name, email) SELECT 'a' || i, 'a' || i FROM generate_series(1, 20) i"));

		await().untilAsserted(() -> assertThat(this.subscribers.events).hasSize(20));
		assertThat(this.subscribers.threads).allMatch((thread) -> thread.startsWith("events-dispatch-"));
		assertThat(this.subscribers.events).extracting(Event::id).doesNotHaveDuplicates();
	}

	@Test
	void transactionsThatWaitForTheDispatchThreadsAreEachDeliveredInOrderOnce() throws Exception {
		this.subscribers.clear();
		this.subscribers.hold = new CountDownLatch(1);
		// both dispatch threads (events.dispatch.threads=2) are held by a subscriber ...
		insert("held-1", 1);
		insert("held-2", 1);
		await().until(() -> this.subscribers.held.get() == 2);
		// ... while 40 transactions commit and wait in the executor's queue; one has 120
		// rows
		for (int t = 0; t < 40; t++) {
			insert("tx" + t, (t == 7) ? 120 : 3);
		}
		this.subscribers.hold.countDown();

		await().untilAsserted(() -> assertThat(this.subscribers.events).hasSize(2 + 39 * 3 + 120));
		assertThat(this.subscribers.events).extracting(Event::id).doesNotHaveDuplicates();
		Map<String, List<Long>> byTransaction = this.subscribers.events.stream()
			.collect(Collectors.groupingBy((event) -> event.target().data().get("email").toString(),
					Collectors.mapping((event) -> Long.valueOf(event.id()), Collectors.toList())));
		assertThat(byTransaction).hasSize(42);
		assertThat(byTransaction.get("tx7")).hasSize(120);
		byTransaction.forEach((transaction, ids) -> assertThat(ids).as(transaction).isSorted());
	}

	private void insert(String transaction, int rows) {
		this.transactions.executeWithoutResult((status) -> this.jdbc.update(
				"INSERT INTO member (name, email) SELECT 'm' || i, ? FROM generate_series(1, ?) i", transaction, rows));
	}

	static class Subscribers extends RecordingSubscriber {

		final List<String> threads = new CopyOnWriteArrayList<>();

		final AtomicInteger held = new AtomicInteger();

		volatile CountDownLatch hold = new CountDownLatch(0);

		@EventSubscriber("member.created")
		void created(Event event) throws InterruptedException {
			if (this.hold.getCount() > 0) {
				this.held.incrementAndGet();
				this.hold.await(30, TimeUnit.SECONDS);
			}
			this.threads.add(Thread.currentThread().getName());
			record("created", event);
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
