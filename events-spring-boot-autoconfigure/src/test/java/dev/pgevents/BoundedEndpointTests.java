package dev.pgevents;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import javax.sql.DataSource;

import org.junit.jupiter.api.Test;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.core.io.ClassPathResource;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DriverManagerDataSource;
import org.springframework.jdbc.datasource.init.ResourceDatabasePopulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The {@code events} endpoint of an application with a 256 MB heap ({@link ChildJvm}) and
 * a million dead letters: a request for all of them is refused, concurrent requests for
 * the largest page are answered, and the application goes on delivering. An unbounded
 * listing answered hundreds of megabytes per request, and three at once ran the JVM out
 * of memory and killed the starter's threads.
 */
class BoundedEndpointTests {

	private static final int DEAD = 1_000_000;

	final HttpClient http = HttpClient.newHttpClient();

	@Test
	void aMillionDeadLettersAreListedPageByPageWithinASmallHeap() throws Exception {
		String url = TestDatabase.create();
		DataSource dataSource = new DriverManagerDataSource(url);
		new ResourceDatabasePopulator(new ClassPathResource("member-schema.sql")).execute(dataSource);
		JdbcTemplate jdbc = new JdbcTemplate(dataSource);
		DeliveredMembers.createTable(jdbc);
		int port = freePort();
		Path log = Path.of("target", "bounded-endpoint", "app.log");
		Process app = ChildJvm.start(log, List.of(), App.class, url, Integer.toString(port));
		try {
			await().atMost(Duration.ofSeconds(90))
				.pollInterval(Duration.ofMillis(200))
				.until(() -> !app.isAlive() || status(port, "/actuator/health") == 200);
			assertThat(app.isAlive()).as("the application started; see " + log).isTrue();
			deadLetters(jdbc);

			assertThat(status(port, "/actuator/events/dead?limit=100000000")).as("more than the largest page")
				.isEqualTo(400);
			for (int round = 0; round < 3; round++) {
				List<CompletableFuture<HttpResponse<String>>> pages = new ArrayList<>();
				for (int i = 0; i < 3; i++) {
					pages.add(this.http.sendAsync(
							HttpRequest.newBuilder(uri(port, "/actuator/events/dead?limit=" + DeliveryQuery.MAX_LIMIT))
								.build(),
							HttpResponse.BodyHandlers.ofString()));
				}
				for (CompletableFuture<HttpResponse<String>> page : pages) {
					HttpResponse<String> response = page.join();
					assertThat(response.statusCode()).isEqualTo(200);
					assertThat(response.body().split("\"eventId\"", -1)).hasSize(DeliveryQuery.MAX_LIMIT + 1);
					assertThat(response.body()).contains("\"next\":\"");
				}
			}

			jdbc.update("INSERT INTO member (id, name, email) VALUES (?, 'after', 'after')", UUID.randomUUID());
			await().atMost(Duration.ofSeconds(30))
				.until(() -> DeliveredMembers.count(jdbc, "SELECT count(*) FROM delivered") == 1);
			assertThat(status(port, "/actuator/health")).isEqualTo(200);
			assertThat(app.isAlive()).isTrue();
			assertThat(Files.readString(log)).doesNotContain("OutOfMemoryError");
		}
		finally {
			app.destroy();
			app.waitFor();
		}
	}

	/**
	 * A million dead deliveries of processed rows, each with a stack trace's worth of
	 * error.
	 */
	private static void deadLetters(JdbcTemplate jdbc) {
		jdbc.update("""
				INSERT INTO keel_audit (table_name, op, data, created_at, event_processed_at)
				SELECT 'member', 'created', jsonb_build_object('id', gen_random_uuid(), 'name', 'n' || g,
					'email', 'e' || g || '@example.com'), now(), now()
				FROM generate_series(1, ?) g
				""", DEAD);
		jdbc.update("""
				INSERT INTO keel_audit_delivery (audit_id, subscriber, status, attempts, last_error)
				SELECT id, 'record', 'dead', 5, 'java.lang.IllegalStateException: ' || repeat('broken ', 40)
				FROM keel_audit WHERE table_name = 'member' AND op = 'created'
				""");
		jdbc.execute("ANALYZE keel_audit_delivery");
	}

	private int status(int port, String path) {
		try {
			return this.http
				.send(HttpRequest.newBuilder(uri(port, path)).build(), HttpResponse.BodyHandlers.discarding())
				.statusCode();
		}
		catch (Exception ex) {
			return -1;
		}
	}

	private static URI uri(int port, String path) {
		return URI.create("http://localhost:" + port + path);
	}

	private static int freePort() throws Exception {
		try (ServerSocket socket = new ServerSocket(0)) {
			return socket.getLocalPort();
		}
	}

	/**
	 * A web application that exposes the endpoint, with one subscriber.
	 */
	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class App {

		public static void main(String[] args) {
			SpringApplication.run(App.class, "--spring.datasource.url=" + args[0], "--server.port=" + args[1],
					"--spring.main.web-application-type=servlet", "--events.relay.poll-interval=200ms",
					"--management.endpoints.web.exposure.include=health,events", "--spring.main.banner-mode=off");
		}

		@Bean
		DeliveredMembers deliveredMembers(JdbcTemplate jdbc) {
			return new DeliveredMembers(jdbc);
		}

	}

}
