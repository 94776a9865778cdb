package dev.pgevents;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Import;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The database goes away under a writing application: its threads fail while it is gone,
 * as they would without the library, and write again as soon as it is back; every change
 * they committed is delivered.
 */
class DatabaseOutageTests {

	@Test
	void writersWriteAgainAfterTheServerIsStoppedAndStarted(@TempDir Path data) throws Exception {
		int port;
		try (ServerSocket socket = new ServerSocket(0)) {
			port = socket.getLocalPort();
		}
		EmbeddedPostgres server = start(data, port);
		try (ConfigurableApplicationContext app = start("jdbc:postgresql://localhost:" + port + "/postgres");
				Writers writers = writers(app, 4)) {
			writers.awaitEachCommits(10, Duration.ofSeconds(30));

			server.close();
			writers.awaitEachFails(Duration.ofSeconds(30));
			server = start(data, port);

			// the same threads: none is left bound to a dead transaction
			writers.awaitEachCommits(10, Duration.ofSeconds(60));
			writers.close();
			writers.awaitDelivered(app.getBean(MemberDeliveries.class).deliveries, Duration.ofSeconds(60));
		}
		finally {
			server.close();
		}
	}

	@Test
	void writersWriteAgainAfterTheirConnectionsAreTerminatedAsTheyBegin() throws Exception {
		String url = TestDatabase.create();
		try (ConfigurableApplicationContext app = start(url);
				Writers writers = writers(app, 4);
				Connection admin = DriverManager.getConnection(url);
				Statement statement = admin.createStatement()) {
			writers.awaitEachCommits(10, Duration.ofSeconds(30));
			for (int round = 0; round < 10; round++) {
				// the pool hands out recently used connections without checking them: the
				// first statement of a transaction meets the terminated backend
				statement.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
						+ "WHERE datname = current_database() AND pid <> pg_backend_pid()");
				writers.awaitEachCommits(5, Duration.ofSeconds(30));
			}
			assertThat(writers.failures).as("terminated connections were met").isNotEmpty();
			writers.close();
			writers.awaitDelivered(app.getBean(MemberDeliveries.class).deliveries, Duration.ofSeconds(60));
		}
	}

	private static EmbeddedPostgres start(Path data, int port) throws IOException {
		return EmbeddedPostgres.builder()
			.setDataDirectory(data)
			.setCleanDataDirectory(false)
			.setPort(port)
			.setServerConfig("max_connections", "50")
			.start();
	}

	private static ConfigurableApplicationContext start(String url) {
		return TestApplications.start(App.class, url, "spring.datasource.username=postgres",
				"spring.datasource.hikari.maximum-pool-size=8", "spring.datasource.hikari.connection-timeout=1000",
				"events.relay.lease=2s", "events.relay.poll-interval=200ms", "events.retry.initial-delay=100ms");
	}

	private static Writers writers(ConfigurableApplicationContext app, int threads) {
		return new Writers(threads, app.getBean(TransactionTemplate.class), app.getBean(JdbcTemplate.class));
	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	@Import(MemberDeliveries.class)
	static class App {

	}

}
