package dev.pgevents;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.io.ClassPathResource;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DriverManagerDataSource;
import org.springframework.jdbc.datasource.init.ResourceDatabasePopulator;

import static dev.pgevents.DeliveredMembers.count;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * An instance frozen with SIGSTOP in the middle of a relay batch, past its lease: the
 * database ends its claim (idle in transaction for longer than the lease), another
 * instance takes the rows over and delivers them; when the frozen one resumes (SIGCONT)
 * and its subscriber fails, it cannot record that failure or any other outcome: its claim
 * is gone. A {@code @Transactional} subscriber applies each change once: a transaction
 * the frozen instance holds open is ended by the server after the lease too.
 */
@Tag("slow")
class StallRecoveryTests {

	@Test
	void aStalledInstanceWakingAfterItsLeaseCannotOverwriteTheNewerState() throws Exception {
		String url = TestDatabase.create();
		DriverManagerDataSource dataSource = new DriverManagerDataSource(url);
		new ResourceDatabasePopulator(new ClassPathResource("member-schema.sql")).execute(dataSource);
		JdbcTemplate jdbc = new JdbcTemplate(dataSource);
		jdbc.execute("CREATE TABLE delivery_log (event_id bigint NOT NULL, pid int NOT NULL)");
		jdbc.execute("CREATE TABLE tx_delivery_log (event_id bigint NOT NULL, pid int NOT NULL)");
		Path logs = Path.of("target", "stall-recovery");

		Process stalling = ChildJvm.start(logs.resolve("stalling.log"),
				List.of("-Dtest.write=false", "-Dtest.delay-ms=20", "-Dtest.fail-after-stall=true",
						"-Devents.relay.lease=2s", "-Devents.relay.batch-size=100"),
				CrashRecoveryTests.CrashingApp.class, url);
		long pid = stalling.pid();
		try {
			// started: its subscriber is registered
			await().atMost(Duration.ofSeconds(60))
				.ignoreExceptions()
				.until(() -> count(jdbc, "SELECT count(*) FROM keel_audit_subscriber") > 0);
			jdbc.update("INSERT INTO member (name, email) SELECT 'st' || i, 'st' FROM generate_series(1, 300) i");
			await().atMost(Duration.ofSeconds(30))
				.until(() -> count(jdbc, "SELECT count(*) FROM delivery_log WHERE pid = " + pid) >= 10);
			ChildJvm.signal("STOP", pid); // frozen in the middle of its first batch of
											// 100

			try (ConfigurableApplicationContext healthy = new SpringApplicationBuilder(
					CrashRecoveryTests.CrashingApp.class)
				.properties(CrashRecoveryTests.CrashingApp.properties(url))
				.properties("test.write=false", "events.relay.lease=2s")
				.run()) {
				await().atMost(Duration.ofSeconds(60))
					.until(() -> count(jdbc, "SELECT count(*) FROM keel_audit WHERE event_processed_at IS NULL") == 0);

				ChildJvm.signal("CONT", pid);
				stalling.destroy(); // SIGTERM: it finishes, or abandons, its batch and
									// writes its outcomes
				assertThat(stalling.waitFor(60, TimeUnit.SECONDS)).isTrue();

				long missing = count(jdbc, "SELECT count(*) FROM keel_audit a "
						+ "WHERE NOT EXISTS (SELECT FROM delivery_log d WHERE d.event_id = a.id)");
				long duplicates = count(jdbc,
						"SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM delivery_log GROUP BY event_id) c");
				long missingInTransaction = count(jdbc, "SELECT count(*) FROM keel_audit a "
						+ "WHERE NOT EXISTS (SELECT FROM tx_delivery_log d WHERE d.event_id = a.id)");
				long duplicatesInTransaction = count(jdbc, "SELECT coalesce(sum(n - 1), 0) FROM "
						+ "(SELECT count(*) AS n FROM tx_delivery_log GROUP BY event_id) c");
				System.out.printf(
						"Stall recovery: 300 events; subscriber without a transaction: missing %d, "
								+ "duplicates %d (delivered by the frozen instance before it froze or after it woke); "
								+ "@Transactional subscriber: missing %d, duplicates %d%n",
						missing, duplicates, missingInTransaction, duplicatesInTransaction);
				assertThat(missing).isZero();
				assertThat(missingInTransaction).isZero();
				assertThat(duplicatesInTransaction).isZero();
				assertThat(count(jdbc, "SELECT count(*) FROM keel_audit_delivery WHERE status <> 'delivered'"))
					.as("failures recorded")
					.isZero();
				assertThat(count(jdbc, "SELECT count(*) FROM keel_audit WHERE event_processed_at IS NULL")).isZero();
			}
		}
		finally {
			ChildJvm.signal("CONT", pid);
			stalling.destroyForcibly();
		}
	}

}
