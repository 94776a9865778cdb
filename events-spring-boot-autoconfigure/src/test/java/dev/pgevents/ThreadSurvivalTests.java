package dev.pgevents;

import java.time.Duration;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The starter's threads outlive what they can: an {@link OutOfMemoryError} in the
 * application's {@link EventHandler} fails that delivery, which is retried, and not the
 * relay; and a relay thread that an error does end is restarted, the {@code events}
 * health check DOWN until it runs again. Before, either error ended the relay for good:
 * nothing written outside the application's transactions was delivered again until a
 * restart.
 */
@WithTestDatabase
@SpringBootTest(classes = ThreadSurvivalTests.App.class,
		properties = { TestApplications.SQL_INIT, TestApplications.MEMBER_SCHEMA, "events.relay.poll-interval=200ms",
				"events.retry.initial-delay=100ms", "management.endpoint.health.show-details=always" })
class ThreadSurvivalTests {

	@Autowired
	JdbcTemplate jdbc;

	@Autowired
	Failing failing;

	@Autowired
	@Qualifier("eventsHealthIndicator")
	HealthIndicator health;

	@Test
	void anOutOfMemoryErrorInASubscriberIsAFailedDeliveryThatIsRetried() {
		// autocommit: the relay delivers it
		this.jdbc.update("INSERT INTO member (name, email) VALUES ('oom', 'oom@example.com')");

		await().atMost(Duration.ofSeconds(30)).until(() -> this.failing.delivered.contains("oom"));
		assertThat(this.failing.failed).containsOnlyOnce("oom");
		assertThat(this.health.health(true).getDetails()).containsEntry("relay", "running");
		assertThat(this.health.health(true).getStatus()).isEqualTo(Status.UP);
	}

	@Test
	void aRelayThreadThatAnErrorEndsIsRestartedAndTheHealthCheckIsDownMeanwhile() {
		this.jdbc.update("INSERT INTO member (name, email) VALUES ('fatal', 'fatal@example.com')");

		await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20)).untilAsserted(() -> {
			Health health = this.health.health(true);
			assertThat(health.getStatus()).isEqualTo(Status.DOWN);
			assertThat(health.getDetails()).containsKey("restarting");
			assertThat(String.valueOf(health.getDetails().get("restarting"))).contains("events-relay=");
		});
		await().atMost(Duration.ofSeconds(30)).until(() -> this.failing.delivered.contains("fatal"));
		assertThat(this.failing.failed).containsOnlyOnce("fatal");
		await().atMost(Duration.ofSeconds(10))
			.untilAsserted(() -> assertThat(this.health.health(true).getStatus()).isEqualTo(Status.UP));
		assertThat(this.health.health(true).getDetails()).containsEntry("relay", "running");
	}

	/**
	 * An application's {@link EventHandler} that fails the first delivery of a member
	 * named {@code oom} with a real {@link OutOfMemoryError} (an array larger than the
	 * heap), and that of a member named {@code fatal} with an error the engine does not
	 * catch; it hands the others to the subscriber methods, which record them.
	 */
	static class Failing implements EventHandler {

		final Queue<String> failed = new ConcurrentLinkedQueue<>();

		final Queue<String> delivered = new ConcurrentLinkedQueue<>();

		private final AtomicBoolean oomThrown = new AtomicBoolean();

		private final AtomicBoolean fatalThrown = new AtomicBoolean();

		private final SubscriberMethods methods;

		Failing(SubscriberMethods methods) {
			this.methods = methods;
		}

		@Override
		public void handle(String subscriber, Event event, String traceparent) throws Exception {
			String name = (String) event.target().data().get("name");
			if ("oom".equals(name) && this.oomThrown.compareAndSet(false, true)) {
				this.failed.add(name);
				long[] larger = new long[Integer.MAX_VALUE - 8];
				throw new IllegalStateException("allocated " + larger.length);
			}
			if ("fatal".equals(name) && this.fatalThrown.compareAndSet(false, true)) {
				this.failed.add(name);
				throw new Fatal();
			}
			this.methods.handle(subscriber, event, traceparent);
		}

		@EventSubscriber("member.created")
		void record(Event event) {
			this.delivered.add((String) event.target().data().get("name"));
		}

	}

	static class Fatal extends Error {

		Fatal() {
			super("an error that no loop catches");
		}

	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class App {

		@Bean
		Failing failing(SubscriberMethods methods) {
			return new Failing(methods);
		}

	}

}
