package dev.pgevents;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import org.springframework.boot.CommandLineRunner;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;
import org.springframework.core.io.ClassPathResource;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DriverManagerDataSource;
import org.springframework.jdbc.datasource.init.ResourceDatabasePopulator;
import org.springframework.transaction.support.TransactionTemplate;
import org.springframework.util.FileSystemUtils;

import static dev.pgevents.DeliveredMembers.count;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The database server stopped and started again in place, three times in a row, under an
 * application in another JVM that keeps committing: once the writes stop, every committed
 * row is delivered, by the application itself or a second instance, within 90 seconds,
 * run after run.
 */
@Tag("slow")
class DatabaseRestartTests {

	private static final Path LOGS = Path.of("target", "database-restart");

	private static final int RUNS = Integer.getInteger("tests.restart-runs", 10);

	private static final int POOL_SIZE = 10;

	@Test
	void everyCommittedRowIsDeliveredAfterRepeatedRestarts() throws Exception {
		Path data = Files.createTempDirectory("events-restart");
		int port = freePort();
		EmbeddedPostgres server = start(data, port);
		try {
			for (int run = 1; run <= RUNS; run++) {
				String url = "jdbc:postgresql://localhost:" + port + "/restart_" + run + "?user=postgres";
				try (Connection admin = DriverManager.getConnection(server.getJdbcUrl("postgres", "postgres"));
						Statement statement = admin.createStatement()) {
					statement.execute("CREATE DATABASE restart_" + run);
				}
				DataSource dataSource = new DriverManagerDataSource(url);
				new ResourceDatabasePopulator(new ClassPathResource("member-schema.sql")).execute(dataSource);
				JdbcTemplate jdbc = new JdbcTemplate(dataSource);
				DeliveredMembers.createTable(jdbc);
				Path stop = LOGS.resolve("stop-" + run);
				Files.deleteIfExists(stop);

				Process app = ChildJvm.start(LOGS.resolve("run-" + run + ".log"),
						List.of("-Dtests.restart-mode=" + System.getProperty("tests.restart-mode", "sync"),
								"-Dspring.datasource.hikari.maximum-pool-size=" + POOL_SIZE),
						RestartingApp.class, url, stop.toAbsolutePath().toString());
				try {
					await().atMost(Duration.ofSeconds(60))
						.until(() -> count(jdbc, "SELECT count(*) FROM delivered") > 20 || !app.isAlive());
					assertThat(app.isAlive()).isTrue();
					for (int restart = 1; restart <= 3; restart++) {
						Thread.sleep(3000);
						server.close();
						Thread.sleep(4000);
						server = start(data, port);
					}
					long written = count(jdbc, "SELECT count(*) FROM member");
					await().atMost(Duration.ofSeconds(60))
						.until(() -> count(jdbc, "SELECT count(*) FROM member") > written + 20);
					// the application catches up while it still writes
					long restarted = System.nanoTime();
					await().atMost(Duration.ofSeconds(90))
						.untilAsserted(() -> assertThat(count(jdbc, DeliveredMembers.UNDELIVERED))
							.as("committed rows not delivered")
							.isLessThan(50));
					long caughtUp = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - restarted);
					Files.createFile(stop); // the application's writer stops

					try (ConfigurableApplicationContext second = new SpringApplicationBuilder(RestartingApp.class)
						.properties(RestartingApp.properties(url))
						.properties("test.write=false")
						.run()) {
						await().atMost(Duration.ofSeconds(90))
							.untilAsserted(() -> assertThat(count(jdbc, DeliveredMembers.UNDELIVERED))
								.as("committed rows not delivered")
								.isZero());
					}
					// and the application's pool has all its connections: none was
					// lost to the restarts
					await().atMost(Duration.ofSeconds(60))
						.untilAsserted(() -> assertThat(count(jdbc,
								"SELECT count(*) FROM pg_stat_activity WHERE application_name = 'restarting-app'"))
							.as(() -> "the application's live connections, of "
									+ jdbc.queryForList("SELECT application_name, datname, state, count(*) "
											+ "FROM pg_stat_activity GROUP BY 1, 2, 3"))
							.isEqualTo(POOL_SIZE));
					long committed = count(jdbc, "SELECT count(*) FROM member");
					long twice = count(jdbc, DeliveredMembers.TWICE);
					System.out.printf(
							"Database restarts, run %d: %d rows committed, all delivered, %d twice; fewer "
									+ "than 50 undelivered %d ms after the application wrote again; ledger: %s%n",
							run, committed, twice, caughtUp, jdbc.queryForList(
									"SELECT status, attempts, count(*) FROM keel_audit_delivery GROUP BY 1, 2 ORDER BY 1, 2"));
				}
				finally {
					app.destroy();
					if (!app.waitFor(60, TimeUnit.SECONDS)) {
						app.destroyForcibly();
					}
				}
			}
		}
		finally {
			server.close();
			FileSystemUtils.deleteRecursively(data);
		}
	}

	private static EmbeddedPostgres start(Path data, int port) throws IOException {
		return EmbeddedPostgres.builder().setDataDirectory(data).setCleanDataDirectory(false).setPort(port).start();
	}

	private static int freePort() throws IOException {
		try (ServerSocket socket = new ServerSocket(0)) {
			return socket.getLocalPort();
		}
	}

	/**
	 * The application: one-row transactions in a loop that keeps trying through failures
	 * until a stop file appears, and a subscriber that records each delivery.
	 */
	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class RestartingApp {

		static Map<String, Object> properties(String url) {
			return Map.of("spring.datasource.url", url, "events.relay.lease", "2s", "events.relay.poll-interval",
					"200ms", "spring.main.banner-mode", "off", "events.dispatch.mode",
					System.getProperty("tests.restart-mode", "sync"));
		}

		public static void main(String[] args) {
			// its connections are told from the second instance's by their name
			new SpringApplicationBuilder(RestartingApp.class)
				.properties(properties(args[0] + "&ApplicationName=restarting-app"))
				.properties("test.stop-file=" + args[1])
				.run();
		}

		@Bean
		DeliveredMembers deliveredMembers(JdbcTemplate jdbc) {
			return new DeliveredMembers(jdbc);
		}

		@Bean
		CommandLineRunner writer(TransactionTemplate transactions, JdbcTemplate jdbc, Environment environment) {
			return (args) -> {
				if (!environment.getProperty("test.write", Boolean.class, true)) {
					return;
				}
				Path stop = Path.of(environment.getRequiredProperty("test.stop-file"));
				Thread writer = new Thread(() -> {
					while (!Files.exists(stop)) {
						try {
							transactions.executeWithoutResult((status) -> jdbc.update(
									"INSERT INTO member (id, name, email) VALUES (?, 'r', 'r')", UUID.randomUUID()));
						}
						catch (RuntimeException ex) {
							sleep(100); // the database is down: try again
						}
					}
				}, "writer");
				writer.start();
			};
		}

		private static void sleep(long millis) {
			try {
				Thread.sleep(millis);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}

	}

}
