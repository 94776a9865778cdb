package dev.pgevents;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariDataSource;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;
import org.springframework.jdbc.datasource.AbstractDataSource;
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
@ExtendWith(OutputCaptureExtension.class)
class SyncDispatchPoolTests {

	static final int TRANSACTIONS = 40;

	@ParameterizedTest(name = "{0} threads, a pool of {1}")
	@CsvSource({ "16, 4", "20, 10" })
	void moreCommittingThreadsThanConnectionsWithWritingSubscribers(int threads, int poolSize) throws Exception {
		try (ConfigurableApplicationContext app = new SpringApplicationBuilder(App.class)
			.properties("spring.datasource.url=" + TestDatabase.create(),
					"spring.datasource.hikari.maximum-pool-size=" + poolSize,
					"spring.datasource.hikari.connection-timeout=10000", TestApplications.SQL_INIT,
					TestApplications.MEMBER_SCHEMA, "spring.main.banner-mode=off", "events.dispatch.mode=sync")
			.run()) {
			commitConcurrently(app, threads);
		}
	}

	/**
	 * A pool Spring Boot has no metadata for (here, a DataSource of the application's
	 * that hides the pool it wraps, as a tracing or routing wrapper may): its size is
	 * unknown, so every transaction's events go to the dispatch executor unless
	 * {@code events.dispatch.sync-limit} says how many committing threads may run
	 * subscribers.
	 */
	@ParameterizedTest(name = "{0} threads, an unknown pool of {1}, sync-limit {2}")
	@CsvSource({ "16, 4, ", "16, 6, 2" })
	void aPoolOfUnknownSize(int threads, int poolSize, @Nullable Integer syncLimit, CapturedOutput output)
			throws Exception {
		try (ConfigurableApplicationContext app = new SpringApplicationBuilder(UnknownPoolApp.class)
			.properties("test.url=" + TestDatabase.create(), "test.pool-size=" + poolSize, TestApplications.SQL_INIT,
					TestApplications.MEMBER_SCHEMA, "spring.main.banner-mode=off", "events.dispatch.mode=sync",
					(syncLimit != null) ? "events.dispatch.sync-limit=" + syncLimit : "test.none=")
			.run()) {
			if (syncLimit == null) {
				assertThat(output).contains(
						"The size of the connection pool (" + OpaquePool.class.getName()
								+ ") is unknown to Spring Boot",
						"set events.dispatch.sync-limit to the pool's size less 4");
			}
			commitConcurrently(app, threads);
		}
	}

	private static void commitConcurrently(ConfigurableApplicationContext app, int threads) throws Exception {
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

	/**
	 * A connection pool hidden behind a DataSource of the application's that does not say
	 * what it wraps.
	 */
	static final class OpaquePool extends AbstractDataSource {

		private final DataSource pool;

		OpaquePool(DataSource pool) {
			this.pool = pool;
		}

		@Override
		public Connection getConnection() throws SQLException {
			return this.pool.getConnection();
		}

		@Override
		public Connection getConnection(String username, String password) throws SQLException {
			return this.pool.getConnection(username, password);
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
	static class UnknownPoolApp {

		@Bean
		OpaquePool dataSource(Environment environment) {
			HikariDataSource pool = new HikariDataSource();
			pool.setJdbcUrl(environment.getRequiredProperty("test.url"));
			pool.setMaximumPoolSize(environment.getRequiredProperty("test.pool-size", Integer.class));
			pool.setConnectionTimeout(10_000);
			return new OpaquePool(pool);
		}

		@Bean
		WritingSubscriber writingSubscriber(JdbcTemplate jdbc) {
			return new WritingSubscriber(jdbc);
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
