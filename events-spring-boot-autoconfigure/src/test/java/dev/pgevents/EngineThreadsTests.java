package dev.pgevents;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledForJreRange;
import org.junit.jupiter.api.condition.JRE;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.support.TransactionTemplate;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The starter's threads are Spring's executors': on virtual threads when the application
 * runs on them, and all ended when the context has closed.
 */
class EngineThreadsTests {

	@ParameterizedTest(name = "{0} mode")
	@ValueSource(strings = { "sync", "async" })
	void closingAContextLeavesNoThreadOfTheStarterBehind(String mode) throws Exception {
		Set<Thread> before = Thread.getAllStackTraces().keySet();
		List<Thread> started;
		try (ConfigurableApplicationContext app = new SpringApplicationBuilder(App.class)
			.properties(properties("events.dispatch.mode=" + mode, "spring.main.web-application-type=none"))
			.run()) {
			insertMembers(app, 1);
			awaitWelcomed(app, 1);
			started = Thread.getAllStackTraces()
				.keySet()
				.stream()
				.filter((thread) -> !before.contains(thread) && thread.getName().startsWith("events-"))
				.toList();
			assertThat(started).extracting(Thread::getName).contains("events-relay", "events-ledger");
		}
		for (Thread thread : started) {
			// the context waited for them, boundedly; what is left ends at once or never
			thread.join(Duration.ofSeconds(10).toMillis());
		}
		assertThat(started).filteredOn(Thread::isAlive).extracting(Thread::getName).isEmpty();
	}

	@Test
	@EnabledForJreRange(min = JRE.JAVA_21, disabledReason = "virtual threads need Java 21")
	void onVirtualThreads200ConcurrentRequestsOnAPoolOf10AreAllAnsweredAndDelivered() throws Exception {
		int requests = 200;
		try (ConfigurableApplicationContext app = new SpringApplicationBuilder(WebApp.class)
			.properties(properties("server.port=0", "spring.threads.virtual.enabled=true",
					"spring.datasource.hikari.maximum-pool-size=10",
					"spring.datasource.hikari.connection-timeout=10000", "events.dispatch.mode=sync"))
			.run("--spring.main.web-application-type=servlet")) {
			int port = ((WebServerApplicationContext) app).getWebServer().getPort();
			HttpClient http = HttpClient.newHttpClient();
			List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
			for (int i = 0; i < requests; i++) {
				responses.add(http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/members"))
					.POST(HttpRequest.BodyPublishers.noBody())
					.timeout(Duration.ofSeconds(60))
					.build(), HttpResponse.BodyHandlers.ofString()));
			}
			List<Integer> statuses = responses.stream().map((response) -> response.join().statusCode()).toList();
			assertThat(statuses).hasSize(requests).containsOnly(200);
			awaitWelcomed(app, requests);
			Map<String, Boolean> threads = app.getBean(ThreadRecordingSubscriber.class).virtualByThread;
			assertThat(threads.keySet()).allMatch((name) -> !name.startsWith("events-") || threads.get(name),
					"the starter's threads that ran subscribers are virtual");
		}
	}

	private static String[] properties(String... more) {
		List<String> properties = new ArrayList<>(List.of("spring.datasource.url=" + TestDatabase.create(),
				TestApplications.SQL_INIT, TestApplications.MEMBER_SCHEMA, "spring.main.banner-mode=off"));
		properties.addAll(List.of(more));
		return properties.toArray(String[]::new);
	}

	private static void insertMembers(ConfigurableApplicationContext app, int count) {
		for (int i = 0; i < count; i++) {
			app.getBean(Members.class).create();
		}
	}

	private static void awaitWelcomed(ConfigurableApplicationContext app, int count) {
		JdbcTemplate jdbc = app.getBean(JdbcTemplate.class);
		await().atMost(Duration.ofSeconds(60))
			.untilAsserted(() -> assertThat(
					jdbc.queryForObject("SELECT count(DISTINCT member_id) FROM welcome_email", Integer.class))
				.isEqualTo(count));
	}

	@RestController
	static class Members {

		private final TransactionTemplate transactions;

		private final JdbcTemplate jdbc;

		Members(TransactionTemplate transactions, JdbcTemplate jdbc) {
			this.transactions = transactions;
			this.jdbc = jdbc;
		}

		@PostMapping("/members")
		String create() {
			UUID id = UUID.randomUUID();
			this.transactions.executeWithoutResult((status) -> this.jdbc
				.update("INSERT INTO member (id, name, email) VALUES (?, 'v', 'v@example.com')", id));
			return id.toString();
		}

	}

	static class ThreadRecordingSubscriber {

		final Map<String, Boolean> virtualByThread = new ConcurrentHashMap<>();

		private final JdbcTemplate jdbc;

		ThreadRecordingSubscriber(JdbcTemplate jdbc) {
			this.jdbc = jdbc;
		}

		@EventSubscriber("member.created")
		void welcome(Event event) throws ReflectiveOperationException {
			this.jdbc.update("INSERT INTO welcome_email (member_id) VALUES (?)", UUID.fromString(event.target().id()));
			Thread thread = Thread.currentThread();
			// Thread.isVirtual() is Java 21's, and the code compiles for 17
			this.virtualByThread.put(thread.getName(), (Boolean) Thread.class.getMethod("isVirtual").invoke(thread));
		}

	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class App {

		@Bean
		Members members(TransactionTemplate transactions, JdbcTemplate jdbc) {
			return new Members(transactions, jdbc);
		}

		@Bean
		ThreadRecordingSubscriber subscriber(JdbcTemplate jdbc) {
			return new ThreadRecordingSubscriber(jdbc);
		}

	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class WebApp extends App {

	}

}
