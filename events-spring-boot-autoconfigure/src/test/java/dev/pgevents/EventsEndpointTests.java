package dev.pgevents;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The {@code events} actuator endpoint over real HTTP: the subscribers and the backlog,
 * the dead deliveries, and their replay; a backfill and a rewind.
 */
@WithTestDatabase
@SpringBootTest(classes = EventsEndpointTests.App.class, webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { TestApplications.SQL_INIT, TestApplications.MEMBER_SCHEMA, "events.relay.poll-interval=100ms",
				"events.retry.max-attempts=1", "management.endpoints.web.exposure.include=health,events",
				"management.endpoint.health.show-details=always", "spring.web.error.include-message=always",
				"spring.main.web-application-type=servlet" })
class EventsEndpointTests {

	@LocalServerPort
	int port;

	@Autowired
	JdbcTemplate jdbc;

	@Autowired
	TransactionTemplate transactions;

	@Autowired
	Subscribers subscribers;

	private static final JsonMapper JSON = JsonMapper.builder().build();

	final HttpClient http = HttpClient.newHttpClient();

	@Test
	void aDeadDeliveryIsListedAndReplayedOverHttp() throws Exception {
		this.transactions.executeWithoutResult(
				(status) -> this.jdbc.update("INSERT INTO member (name, email) VALUES ('m', 'm@example.com')"));

		String events = get("/actuator/events");
		assertThat(events).contains("\"name\":\"failing\"").contains("\"member.created\"").contains("failing(Event)");
		await().atMost(Duration.ofSeconds(30)).until(() -> get("/actuator/events/dead").contains("\"failing\""));
		assertThat(get("/actuator/events/dead")).contains("\"eventName\":\"member.created\"")
			.contains("IllegalStateException: broken");
		assertThat(get("/actuator/health")).contains("\"events\"").contains("\"relay\":\"running\"");

		this.subscribers.fixed.set(true);
		HttpResponse<String> replayed = this.http.send(HttpRequest.newBuilder(uri("/actuator/events/dead"))
			.header("Content-Type", "application/json")
			.POST(HttpRequest.BodyPublishers.ofString("{\"subscriber\": \"failing\"}"))
			.build(), HttpResponse.BodyHandlers.ofString());
		assertThat(replayed.statusCode()).isEqualTo(200);
		assertThat(replayed.body()).isEqualTo("{\"replayed\":1}");
		await().atMost(Duration.ofSeconds(30)).until(() -> this.subscribers.delivered.get());
		await().atMost(Duration.ofSeconds(30))
			.until(() -> get("/actuator/events/delivered?subscriber=failing").contains("\"replays\":1"));
		assertThat(get("/actuator/events/dead")).isEqualTo("{\"deliveries\":[],\"next\":null}");
	}

	@Test
	void aBackfillAndARewindArePostedOverHttp() throws Exception {
		this.transactions.executeWithoutResult(
				(status) -> this.jdbc.update("INSERT INTO member (name, email) VALUES ('s', 's@example.com')"));
		int members = this.jdbc.queryForObject("SELECT count(*) FROM member", Integer.class);

		HttpResponse<String> backfill = post("/actuator/events/backfill",
				"{\"subscriber\": \"snapshots\", \"table\": \"member\"}");
		assertThat(backfill.statusCode()).isEqualTo(200);
		assertThat(backfill.body()).isEqualTo("{\"queued\":" + members + "}");
		await().atMost(Duration.ofSeconds(30)).until(() -> this.subscribers.snapshots.get() == members);

		HttpResponse<String> rewind = post("/actuator/events/rewind",
				"{\"subscriber\": \"snapshots\", \"since\": \"2000-01-01T00:00:00Z\"}");
		assertThat(rewind.statusCode()).isEqualTo(200);
		assertThat(rewind.body()).isEqualTo("{\"queued\":" + members + "}");
		await().atMost(Duration.ofSeconds(30)).until(() -> this.subscribers.snapshots.get() == 2 * members);

		assertThat(
				post("/actuator/events/backfill", "{\"subscriber\": \"failing\", \"table\": \"member\"}").statusCode())
			.as("a subscriber without snapshots")
			.isEqualTo(400);
		assertThat(post("/actuator/events/rewind", "{\"subscriber\": \"snapshots\", \"since\": \"yesterday\"}")
			.statusCode()).as("not an instant").isEqualTo(400);
		assertThat(post("/actuator/events/backfill", "{\"table\": \"member\"}").statusCode()).as("no subscriber")
			.isEqualTo(400);
	}

	@Test
	void aLimitOutsideOneToAThousandIsABadRequestNamingIt() throws Exception {
		for (String limit : List.of("0", "-1", "1001", "100000000")) {
			HttpResponse<String> response = this.http.send(
					HttpRequest.newBuilder(uri("/actuator/events/dead?limit=" + limit)).build(),
					HttpResponse.BodyHandlers.ofString());
			assertThat(response.statusCode()).as(limit).isEqualTo(400);
			assertThat(response.body()).as(limit).contains("limit is " + limit + ": use 1 to 1000");
		}
	}

	@Test
	void badEventNamesAndUnknownSubscribersAreBadRequestsNamingThem() throws Exception {
		for (String eventName : List.of("*", "*.*", "%", "member", "member.create")) {
			HttpResponse<String> replay = post("/actuator/events/dead", "{\"eventName\": \"" + eventName + "\"}");
			assertThat(replay.statusCode()).as(eventName).isEqualTo(400);
			assertThat(replay.body()).as(eventName).contains("event name '" + eventName + "'");
			HttpResponse<String> list = this.http.send(HttpRequest
				.newBuilder(
						uri("/actuator/events/dead?eventName=" + URLEncoder.encode(eventName, StandardCharsets.UTF_8)))
				.build(), HttpResponse.BodyHandlers.ofString());
			assertThat(list.statusCode()).as(eventName).isEqualTo(400);
		}
		HttpResponse<String> unknown = post("/actuator/events/dead", "{\"subscriber\": \"nobody\"}");
		assertThat(unknown.statusCode()).isEqualTo(400);
		assertThat(unknown.body()).contains("No instance has a subscriber 'nobody'");
		assertThat(post("/actuator/events/dead", "{\"eventName\": \"*.deleted\"}").body())
			.isEqualTo("{\"replayed\":0}");
	}

	@Test
	void deadLettersAreListedPageByPage() throws Exception {
		int dead = 25;
		this.jdbc.update("""
				INSERT INTO keel_audit (table_name, op, data, event_processed_at)
				SELECT 'note', 'created', jsonb_build_object('id', g), now() FROM generate_series(1, ?) g
				""", dead);
		// entries that entered the ledger at the same instant, which a page may end
		// between
		this.jdbc.update("""
				INSERT INTO keel_audit_delivery (audit_id, subscriber, status, created_at)
				SELECT id, s, 'dead', '2026-12-01T00:00:00Z'
				FROM keel_audit, (VALUES ('paged'), ('paged2')) v(s) WHERE table_name = 'note'
				""");
		Set<String> seen = new HashSet<>();
		String after = null;
		int pages = 0;
		do {
			JsonNode page = JSON.readTree(get("/actuator/events/dead?eventName=note.created&limit=7"
					+ ((after != null) ? "&after=" + after : "")));
			page.get("deliveries")
				.forEach((delivery) -> assertThat(
						seen.add(delivery.get("eventId").asText() + "/" + delivery.get("subscriber").asText()))
					.isTrue());
			after = page.get("next").isNull() ? null : page.get("next").asText();
			pages++;
		}
		while (after != null);
		assertThat(seen).hasSize(2 * dead);
		assertThat(pages).isEqualTo(8);
		HttpResponse<String> forged = this.http.send(
				HttpRequest.newBuilder(uri("/actuator/events/dead?after=not-a-cursor")).build(),
				HttpResponse.BodyHandlers.ofString());
		assertThat(forged.statusCode()).isEqualTo(400);
	}

	@Test
	void anUnknownStatusIsABadRequest() throws Exception {
		HttpResponse<String> response = this.http.send(HttpRequest.newBuilder(uri("/actuator/events/lost")).build(),
				HttpResponse.BodyHandlers.ofString());
		assertThat(response.statusCode()).isEqualTo(400);
	}

	private HttpResponse<String> post(String path, String body) throws Exception {
		return this.http.send(HttpRequest.newBuilder(uri(path))
			.header("Content-Type", "application/json")
			.POST(HttpRequest.BodyPublishers.ofString(body))
			.build(), HttpResponse.BodyHandlers.ofString());
	}

	private String get(String path) throws Exception {
		HttpResponse<String> response = this.http.send(HttpRequest.newBuilder(uri(path)).build(),
				HttpResponse.BodyHandlers.ofString());
		assertThat(response.statusCode()).as(path).isEqualTo(200);
		return response.body();
	}

	private URI uri(String path) {
		return URI.create("http://localhost:" + this.port + path);
	}

	static class Subscribers {

		final AtomicBoolean fixed = new AtomicBoolean();

		final AtomicBoolean delivered = new AtomicBoolean();

		final AtomicInteger snapshots = new AtomicInteger();

		@EventSubscriber("member.snapshot")
		void snapshots(Event event) {
			this.snapshots.incrementAndGet();
		}

		@EventSubscriber("member.created")
		void failing(Event event) {
			if ("s@example.com".equals(event.target().data().get("email"))) {
				return; // the backfill test's member
			}
			if (!this.fixed.get()) {
				throw new IllegalStateException("broken");
			}
			this.delivered.set(true);
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
