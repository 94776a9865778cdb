package dev.pgevents;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Import;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A subscriber call that runs for several leases is made once: its claim is kept alive
 * while it runs, so no relay takes its row over; and changes of other tables made
 * meanwhile are delivered.
 */
class SlowSubscriberTests {

	static final AtomicInteger slowCalls = new AtomicInteger();

	static final AtomicInteger prices = new AtomicInteger();

	static volatile CountDownLatch entered = new CountDownLatch(1);

	static volatile CountDownLatch release = new CountDownLatch(1);

	final List<ConfigurableApplicationContext> instances = new ArrayList<>();

	String url;

	@BeforeEach
	void database() {
		this.url = TestDatabase.create();
		slowCalls.set(0);
		prices.set(0);
		entered = new CountDownLatch(1);
		release = new CountDownLatch(1);
	}

	@AfterEach
	void stop() {
		release.countDown();
		this.instances.forEach(ConfigurableApplicationContext::close);
	}

	@Test
	void aSlowCallAfterCommitIsMadeOnceWhileTheRelayDeliversOtherTables() throws Exception {
		ConfigurableApplicationContext instance = start();
		Thread committing = new Thread(() -> instance.getBean(TransactionTemplate.class)
			.executeWithoutResult(
					(status) -> jdbc(instance).update("INSERT INTO member (name, email) VALUES ('slow', 'slow')")));
		committing.start();

		assertSlowCallMadeOnce(jdbc(instance));
		committing.join(TimeUnit.SECONDS.toMillis(30));
	}

	@Test
	void aSlowCallOfTheRelayIsMadeOnceWhileAnotherInstanceDeliversOtherTables() throws Exception {
		ConfigurableApplicationContext first = start();
		start();
		// outside the application: one of the relays claims it
		jdbc(first).update("INSERT INTO member (name, email) VALUES ('slow', 'slow')");

		assertSlowCallMadeOnce(jdbc(first));
	}

	private static void assertSlowCallMadeOnce(JdbcTemplate jdbc) throws InterruptedException {
		assertThat(entered.await(30, TimeUnit.SECONDS)).isTrue();
		Instant written = jdbc.queryForObject("SELECT created_at FROM keel_audit WHERE table_name = 'member'",
				Instant.class);
		// three leases into the call: a relay round that runs from now on would take the
		// row over if it were not held
		await().atMost(Duration.ofSeconds(10))
			.until(() -> Duration.between(written, Instant.now()).compareTo(Duration.ofSeconds(3)) > 0);
		jdbc.update("INSERT INTO price VALUES (1, 1, 1, 1)");
		await().atMost(Duration.ofSeconds(30)).until(() -> prices.get() == 1);

		assertThat(slowCalls).hasValue(1);
		release.countDown();
		await().atMost(Duration.ofSeconds(30))
			.until(() -> jdbc.queryForObject("SELECT count(*) FROM keel_audit WHERE event_processed_at IS NULL",
					Integer.class) == 0);
		assertThat(slowCalls).hasValue(1);
		assertThat(jdbc.queryForObject("SELECT count(*) FROM keel_audit_delivery", Integer.class)).isZero();
	}

	private ConfigurableApplicationContext start() {
		ConfigurableApplicationContext context = new SpringApplicationBuilder(App.class)
			.properties("spring.datasource.url=" + this.url, TestApplications.SQL_INIT, TestApplications.MEMBER_SCHEMA,
					"events.relay.poll-interval=100ms", "events.relay.lease=1s", "spring.main.banner-mode=off")
			.run();
		this.instances.add(context);
		return context;
	}

	private static JdbcTemplate jdbc(ConfigurableApplicationContext instance) {
		return instance.getBean(JdbcTemplate.class);
	}

	static class Subscribers {

		@EventSubscriber("member.created")
		void slow(Event event) throws InterruptedException {
			slowCalls.incrementAndGet();
			entered.countDown();
			release.await(60, TimeUnit.SECONDS);
		}

		@EventSubscriber("price.created")
		void price(Event event) {
			prices.incrementAndGet();
		}

	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	@Import(Subscribers.class)
	static class App {

	}

}
