package dev.pgevents;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.core.io.ClassPathResource;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DriverManagerDataSource;
import org.springframework.jdbc.datasource.init.ResourceDatabasePopulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A worker instance, with subscribers and the relay and no web server, started from a
 * main method that returns at once: the relay keeps its JVM alive and delivers until the
 * instance is stopped. With the relay turned off nothing of the starter's keeps it alive.
 */
class WorkerInstanceTests {

	private static final Path LOGS = Path.of("target", "worker-instance");

	String url;

	JdbcTemplate jdbc;

	@BeforeEach
	void database() {
		this.url = TestDatabase.create();
		DataSource dataSource = new DriverManagerDataSource(this.url);
		new ResourceDatabasePopulator(new ClassPathResource("member-schema.sql")).execute(dataSource);
		this.jdbc = new JdbcTemplate(dataSource);
		DeliveredMembers.createTable(this.jdbc);
	}

	@Test
	void aWorkerWithoutAWebServerStaysUpAndDeliversUntilItIsStopped() throws Exception {
		Path log = LOGS.resolve("worker.log");
		Process worker = ChildJvm.start(log, List.of(), Worker.class, this.url, "true");
		try {
			await().atMost(Duration.ofSeconds(60)).until(() -> mainReturned(log) || !worker.isAlive());
			assertThat(worker.isAlive()).as("the worker runs after its main method returned").isTrue();

			// written by another process: only the worker's relay delivers it
			this.jdbc.update("INSERT INTO member (id, name, email) VALUES (?, 'w', 'w')", UUID.randomUUID());
			await().atMost(Duration.ofSeconds(30))
				.until(() -> DeliveredMembers.count(this.jdbc, "SELECT count(*) FROM delivered") == 1);
			assertThat(worker.isAlive()).isTrue();

			worker.destroy(); // SIGTERM: the context closes, and the relay with it
			assertThat(worker.waitFor(60, TimeUnit.SECONDS)).as("the worker stops when told to").isTrue();
			assertThat(Files.readString(log)).doesNotContain("ERROR");
		}
		finally {
			worker.destroyForcibly();
		}
	}

	@Test
	void anInstanceWithoutTheRelayEndsWhenItsMainMethodReturns() throws Exception {
		Path log = LOGS.resolve("batch.log");
		Process batch = ChildJvm.start(log, List.of(), Worker.class, this.url, "false");
		try {
			assertThat(batch.waitFor(60, TimeUnit.SECONDS)).as("the instance ends").isTrue();
			assertThat(batch.exitValue()).isZero();
			assertThat(mainReturned(log)).isTrue();
		}
		finally {
			batch.destroyForcibly();
		}
	}

	private static boolean mainReturned(Path log) throws IOException {
		return Files.exists(log) && Files.readString(log).contains("main returned");
	}

	/**
	 * A worker: subscribers and the relay, no web server.
	 */
	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class Worker {

		public static void main(String[] args) {
			SpringApplication application = new SpringApplication(Worker.class);
			application.setWebApplicationType(WebApplicationType.NONE);
			application.run("--spring.datasource.url=" + args[0], "--events.relay.enabled=" + args[1],
					"--events.relay.poll-interval=200ms", "--spring.main.banner-mode=off");
			System.out.println("main returned");
		}

		@Bean
		DeliveredMembers deliveredMembers(JdbcTemplate jdbc) {
			return new DeliveredMembers(jdbc);
		}

	}

}
