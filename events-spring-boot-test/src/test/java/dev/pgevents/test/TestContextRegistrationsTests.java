package dev.pgevents.test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import dev.pgevents.Event;
import dev.pgevents.EventDeliveries;
import dev.pgevents.EventSubscriber;
import dev.pgevents.WithTestDatabase;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.context.TestPropertySource;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A test context keeps its subscribers to itself: an application that shares its database
 * hands them none of its events, unless the test asks for it. Outside writes still wake
 * the test's relay at once (the awaiting tests of {@link RecordedEventsTests}).
 */
@WithTestDatabase
@SpringBootTest(classes = KitSubscribers.App.class, properties = { "spring.sql.init.mode=always",
		"spring.sql.init.schema-locations=classpath:member-schema.sql", "events.audit.tables=note" })
class TestContextRegistrationsTests {

	@Autowired
	JdbcTemplate jdbc;

	@Value("${spring.datasource.url}")
	String url;

	@Autowired
	EventDeliveries deliveries;

	@Test
	void anApplicationSharingTheDatabaseHandsTheTestsSubscribersNoEvents() {
		assertThat(this.jdbc.queryForList("SELECT name FROM keel_audit_subscriber WHERE last_seen_at = '-infinity'",
				String.class))
			.as("registered as never seen by an instance that shares them")
			.containsExactlyInAnyOrder("welcome", "noteSnapshots", "profiles");
		assertThat(handedToWelcome(this.jdbc, this.url, this.deliveries)).isZero();
	}

	@Nested
	@TestPropertySource(properties = "events.relay.share-subscribers=true")
	class WhenTheTestSharesThem {

		@Autowired
		JdbcTemplate jdbc;

		@Value("${spring.datasource.url}")
		String url;

		@Autowired
		EventDeliveries deliveries;

		@Test
		void theApplicationSharingTheDatabaseHandsThemItsEvents() {
			assertThat(handedToWelcome(this.jdbc, this.url, this.deliveries)).isOne();
		}

	}

	/**
	 * Commit a member in another application on the same database, one with a subscriber
	 * of its own for it but not the test's, and count the deliveries it handed to the
	 * test's {@code welcome}.
	 */
	static long handedToWelcome(JdbcTemplate jdbc, String url, EventDeliveries deliveries) {
		try (ConfigurableApplicationContext other = new SpringApplicationBuilder(OtherApplication.class)
			.properties("spring.datasource.url=" + url, "spring.main.web-application-type=none",
					"spring.main.banner-mode=off")
			.run()) {
			other.getBean(TransactionTemplate.class)
				.executeWithoutResult((status) -> other.getBean(JdbcTemplate.class)
					.update("INSERT INTO member (name, email) VALUES ('shared', 'shared@example.com')"));
			// its own subscriber called and the row marked: handing is in that statement
			await().atMost(Duration.ofSeconds(30))
				.until(() -> jdbc.queryForObject("SELECT count(*) FROM keel_audit WHERE event_processed_at IS NULL "
						+ "AND data ->> 'email' = 'shared@example.com'", Long.class) == 0);
			assertThat(other.getBean(OtherSubscriber.class).calls).containsExactly("shared@example.com");
		}
		// it stopped for good: the test's context hands it nothing from here on
		deliveries.retire("otherApplication");
		return jdbc.queryForObject("SELECT count(*) FROM keel_audit_delivery d JOIN keel_audit a ON a.id = d.audit_id "
				+ "WHERE d.subscriber = 'welcome' AND a.data ->> 'email' = 'shared@example.com'", Long.class);
	}

	static class OtherSubscriber {

		final List<String> calls = new CopyOnWriteArrayList<>();

		@EventSubscriber(value = "member.created", name = "otherApplication")
		void onCreated(Event event) {
			this.calls.add((String) event.target().data().get("email"));
		}

	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class OtherApplication {

		@Bean
		OtherSubscriber otherSubscriber() {
			return new OtherSubscriber();
		}

	}

}
