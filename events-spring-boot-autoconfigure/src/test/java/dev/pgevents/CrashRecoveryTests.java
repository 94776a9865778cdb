package dev.pgevents;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

import javax.sql.DataSource;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import org.springframework.boot.CommandLineRunner;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DriverManagerDataSource;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.transaction.support.TransactionTemplate;

import static dev.pgevents.DeliveredMembers.count;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The application, run as a child JVM that commits transactions without pause, is killed
 * with SIGKILL at random points, twenty times: after the last kill, an instance that
 * starts delivers every committed change that no killed process delivered. Deliveries are
 * counted per event id in the database; none may be missing. A subscriber without a
 * transaction reports its duplicates; a {@code @Transactional} one has none.
 */
@Tag("slow")
class CrashRecoveryTests {

	static final int ROUNDS = 20;

	@Test
	void everyCommittedChangeIsDeliveredWhateverMomentTheProcessIsKilledAt() throws Exception {
		String url = TestDatabase.create();
		DriverManagerDataSource dataSource = new DriverManagerDataSource(url);
		new org.springframework.jdbc.datasource.init.ResourceDatabasePopulator(
				new org.springframework.core.io.ClassPathResource("member-schema.sql"))
			.execute(dataSource);
		JdbcTemplate jdbc = new JdbcTemplate(dataSource);
		jdbc.execute("CREATE TABLE delivery_log (event_id bigint NOT NULL, pid int NOT NULL)");
		jdbc.execute("CREATE TABLE tx_delivery_log (event_id bigint NOT NULL, pid int NOT NULL)");
		Path logs = Path.of("target", "crash-recovery");

		long leftOver = 0; // undelivered or unmarked rows found right after each kill
		for (int round = 1; round <= ROUNDS; round++) {
			long before = count(jdbc, "SELECT count(*) FROM member");
			Process child = ChildJvm.start(logs.resolve("round-" + round + ".log"), List.of(), CrashingApp.class, url);
			try {
				await().atMost(Duration.ofSeconds(60))
					.until(() -> count(jdbc, "SELECT count(*) FROM member") > before + 20 || !child.isAlive());
				assertThat(child.isAlive()).as("child of round " + round + " is running").isTrue();
				// a random moment: committing, delivering, or recording deliveries
				Thread.sleep(ThreadLocalRandom.current().nextInt(500));
			}
			finally {
				child.destroyForcibly().waitFor(); // SIGKILL
			}
			leftOver += count(jdbc, "SELECT count(*) FROM keel_audit WHERE event_processed_at IS NULL");
		}

		long committed = count(jdbc, "SELECT count(*) FROM keel_audit");
		try (ConfigurableApplicationContext recovery = new SpringApplicationBuilder(CrashingApp.class)
			.properties(CrashingApp.properties(url))
			.properties("test.write=false")
			.run()) {
			await().atMost(Duration.ofMinutes(2))
				.untilAsserted(() -> assertThat(
						count(jdbc, "SELECT count(*) FROM keel_audit WHERE event_processed_at IS NULL"))
					.isZero());
		}

		long missing = count(jdbc, "SELECT count(*) FROM keel_audit a WHERE NOT EXISTS "
				+ "(SELECT FROM delivery_log d WHERE d.event_id = a.id)");
		long duplicates = count(jdbc,
				"SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM delivery_log GROUP BY event_id) c");
		long missingInTransaction = count(jdbc, "SELECT count(*) FROM keel_audit a WHERE NOT EXISTS "
				+ "(SELECT FROM tx_delivery_log d WHERE d.event_id = a.id)");
		long duplicatesInTransaction = count(jdbc,
				"SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM tx_delivery_log GROUP BY event_id) c");
		System.out.printf(
				"Crash recovery: %d rounds, %d committed changes, %d rows left unprocessed by the "
						+ "killed processes (summed over the rounds); subscriber without a transaction: missing %d, "
						+ "duplicates %d; @Transactional subscriber: missing %d, duplicates %d%n",
				ROUNDS, committed, leftOver, missing, duplicates, missingInTransaction, duplicatesInTransaction);
		assertThat(committed).isGreaterThan(ROUNDS * 20L);
		assertThat(missing).isZero();
		assertThat(missingInTransaction).isZero();
		assertThat(duplicatesInTransaction).isZero();
	}

	/**
	 * The application under test: commits one-row transactions in a loop, and records
	 * every delivery in {@code delivery_log} outside any transaction.
	 */
	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class CrashingApp {

		static Map<String, Object> properties(String url) {
			return Map.of("spring.datasource.url", url, "spring.sql.init.mode", "always",
					"spring.sql.init.schema-locations", "classpath:member-schema.sql", "events.relay.lease", "1s",
					"events.relay.poll-interval", "200ms", "spring.main.banner-mode", "off");
		}

		public static void main(String[] args) {
			// runs until stopped: the relay keeps the JVM alive
			new SpringApplicationBuilder(CrashingApp.class).properties(properties(args[0])).run();
		}

		@Bean
		Recorder recorder(DataSource dataSource, org.springframework.core.env.Environment environment) {
			return new Recorder(new JdbcTemplate(dataSource), environment.getProperty("test.delay-ms", Long.class, 0L),
					environment.getProperty("test.fail-after-stall", Boolean.class, false));
		}

		@Bean
		TransactionalRecorder transactionalRecorder(DataSource dataSource) {
			return new TransactionalRecorder(new JdbcTemplate(dataSource));
		}

		@Bean
		CommandLineRunner writer(TransactionTemplate transactions, JdbcTemplate jdbc,
				org.springframework.core.env.Environment environment) {
			return (args) -> {
				if (!environment.getProperty("test.write", Boolean.class, true)) {
					return;
				}
				Thread writer = new Thread(() -> {
					while (true) {
						transactions.executeWithoutResult((status) -> jdbc.update(
								"INSERT INTO member (name, email) SELECT 'k' || i, 'k' FROM generate_series(1, 3) i"));
					}
				}, "writer");
				writer.start();
			};
		}

	}

	static class Recorder {

		private final JdbcTemplate jdbc;

		private final long pid = ProcessHandle.current().pid();

		private final long delayMillis;

		private final boolean failAfterStall;

		private long lastCall;

		Recorder(JdbcTemplate jdbc, long delayMillis, boolean failAfterStall) {
			this.jdbc = jdbc;
			this.delayMillis = delayMillis;
			this.failAfterStall = failAfterStall;
		}

		@EventSubscriber("member.created")
		synchronized void record(Event event) throws InterruptedException {
			long now = System.nanoTime();
			boolean woke = this.failAfterStall && this.lastCall != 0
					&& now - this.lastCall > Duration.ofMillis(1500).toNanos();
			this.lastCall = now;
			if (woke) {
				// after a stall: fail, so the stalled instance tries to record a failure
				throw new IllegalStateException("woke up after a stall");
			}
			this.jdbc.update("INSERT INTO delivery_log (event_id, pid) VALUES (?, ?)", Long.parseLong(event.id()),
					this.pid);
			Thread.sleep(this.delayMillis);
		}

	}

	/**
	 * Records every delivery in {@code tx_delivery_log}, in the transaction that records
	 * the delivery: exactly once, whenever the process is killed.
	 */
	static class TransactionalRecorder {

		private final JdbcTemplate jdbc;

		private final long pid = ProcessHandle.current().pid();

		TransactionalRecorder(JdbcTemplate jdbc) {
			this.jdbc = jdbc;
		}

		@EventSubscriber("member.created")
		@Transactional
		public void recordInTransaction(Event event) {
			this.jdbc.update("INSERT INTO tx_delivery_log (event_id, pid) VALUES (?, ?)", Long.parseLong(event.id()),
					this.pid);
		}

	}

}
