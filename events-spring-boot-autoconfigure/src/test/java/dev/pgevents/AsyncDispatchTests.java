package dev.pgevents;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

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
 * With {@code events.dispatch.mode=async} subscribers run on the dispatch executor, not in
 * the committing thread.
 */
@SpringBootTest(classes = AsyncDispatchTests.App.class,
		properties = { "spring.sql.init.mode=always", "spring.sql.init.schema-locations=classpath:member-schema.sql",
				"events.dispatch.mode=async" })
class AsyncDispatchTests {

	@DynamicPropertySource
	static void database(DynamicPropertyRegistry registry) {
		String url = TestDatabase.create();
		registry.add("spring.datasource.url", () -> url);
	}

	@Autowired
	JdbcTemplate jdbc;

	@Autowired
	TransactionTemplate transactions;

	@Autowired
	Subscribers subscribers;

	@Test
	void subscribersRunOnTheDispatchExecutorAfterCommit() {
		this.transactions.executeWithoutResult((status) -> this.jdbc
			.update("INSERT INTO member (name, email) SELECT 'a' || i, 'a' || i FROM generate_series(1, 20) i"));

		await().untilAsserted(() -> assertThat(this.subscribers.events).hasSize(20));
		assertThat(this.subscribers.threads).allMatch((thread) -> thread.startsWith("events-dispatch-"));
		assertThat(this.subscribers.events).extracting(Event::id).doesNotHaveDuplicates();
	}

	static class Subscribers extends RecordingSubscriber {

		final List<String> threads = new CopyOnWriteArrayList<>();

		@EventSubscriber("member.created")
		void created(Event event) {
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
