package dev.pgevents;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * In sync mode a committing thread still holds its connection when its subscribers run,
 * and subscribers that write take connections of their own: with more committing threads
 * than the pool has connections, no thread may wait for a second connection while it
 * holds one, or every thread waits for a connection that no thread releases.
 */
class SyncDispatchPoolTests {

	static final int TRANSACTIONS = 40;

	@ParameterizedTest(name = "{0} threads, a pool of {1}")
	@CsvSource({ "16, 4", "20, 10" })
	void moreCommittingThreadsThanConnectionsWithWritingSubscribers(int threads, int poolSize) throws Exception {
		String url = TestDatabase.create();
		try (ConfigurableApplicationContext app = new SpringApplicationBuilder(App.class)
			.properties("spring.datasource.url=" + url, "spring.datasource.hikari.maximum-pool-size=" + poolSize,
					"spring.datasource.hikari.connection-timeout=10000", "spring.sql.init.mode=always",
					"spring.sql.init.schema-locations=classpath:member-schema.sql", "spring.main.banner-mode=off",
					"events.dispatch.mode=sync")
			.run()) {
			TransactionTemplate transactions = app.getBean(TransactionTemplate.class);
			JdbcTemplate jdbc = app.getBean(JdbcTemplate.class);
			ExecutorService writers = Executors.newFixedThreadPool(threads);
			List<Future<?>> done = new ArrayList<>();
			for (int i = 0; i < threads; i++) {
				done.add(writers.submit(() -> {
					for (int t = 0; t < TRANSACTIONS; t++) {
						transactions.executeWithoutResult((status) -> jdbc
							.update("INSERT INTO member (id, name, email) VALUES (?, 'p', 'p')", UUID.randomUUID()));
					}
				}));
			}
			for (Future<?> writer : done) {
				writer.get(); // a failed transaction fails the test here
			}
			writers.shutdown();

			int committed = threads * TRANSACTIONS;
			await().atMost(Duration.ofSeconds(60))
				.untilAsserted(() -> assertThat(
						jdbc.queryForObject("SELECT count(DISTINCT member_id) FROM welcome_email", Integer.class))
					.isEqualTo(committed));
			assertThat(jdbc.queryForObject("SELECT count(*) FROM welcome_email", Integer.class)).isEqualTo(committed);
		}
	}

	static class WritingSubscriber {

		private final JdbcTemplate jdbc;

		WritingSubscriber(JdbcTemplate jdbc) {
			this.jdbc = jdbc;
		}

		@EventSubscriber("member.created")
		void welcome(Event event) {
			this.jdbc.update("INSERT INTO welcome_email (member_id) VALUES (?)", UUID.fromString(event.target().id()));
		}

	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class App {

		@Bean
		WritingSubscriber writingSubscriber(JdbcTemplate jdbc) {
			return new WritingSubscriber(jdbc);
		}

	}

}
