package dev.pgevents;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
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
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.awaitility.Awaitility.await;

/**
 * Several instances of an application, with the same or different subscribers, share one
 * database: every change reaches every subscriber that any of them has, once.
 */
class MultiInstanceTests {

	static final Map<String, Map<String, AtomicInteger>> deliveries = new ConcurrentHashMap<>();

	final List<ConfigurableApplicationContext> instances = new ArrayList<>();

	String url;

	@BeforeEach
	void database() {
		this.url = TestDatabase.create();
		deliveries.clear();
	}

	@AfterEach
	void stop() {
		this.instances.forEach(ConfigurableApplicationContext::close);
	}

	@Test
	void aWebTierWithoutSubscribersHandsItsChangesToTheWorkerTier() {
		ConfigurableApplicationContext web = start(Web.class, "events.audit.tables=member");
		start(Worker.class);

		write(web, 20);

		awaitDelivered("welcome", 20);
		awaitDelivered("audit", 20);
		assertExactlyOnce();
	}

	@Test
	void twoInstancesWritingConcurrentlyDeliverEveryChangeOnce() throws Exception {
		ConfigurableApplicationContext first = start(Worker.class);
		ConfigurableApplicationContext second = start(Worker.class);
		ExecutorService writers = Executors.newFixedThreadPool(4);
		List<Future<?>> done = new ArrayList<>();
		for (ConfigurableApplicationContext instance : List.of(first, second, first, second)) {
			done.add(writers.submit(() -> write(instance, 50)));
		}
		// and writes from outside, which both relays compete for
		done.add(writers.submit(() -> jdbc(first)
			.update("INSERT INTO member (name, email) " + "SELECT 'o' || i, 'o' || i FROM generate_series(1, 300) i")));
		for (Future<?> future : done) {
			future.get();
		}
		writers.shutdown();

		awaitDelivered("welcome", 500);
		awaitDelivered("audit", 500);
		assertExactlyOnce();
	}

	@Test
	void duringARollingDeployTheNewSubscriberGetsTheChangesOfOldInstances() {
		ConfigurableApplicationContext old = start(OldWorker.class);
		start(Worker.class); // has "welcome" too, and adds "audit"

		write(old, 10);

		awaitDelivered("welcome", 10);
		awaitDelivered("audit", 10);
		assertExactlyOnce();
	}

	@Test
	void aSubscriberAddedWhileRowsArePendingGetsThem() {
		ConfigurableApplicationContext web = start(Web.class, "events.audit.tables=member",
				"events.relay.enabled=false");
		write(web, 10); // captured, but no instance delivers these yet
		assertThat(jdbc(web).queryForObject("SELECT count(*) FROM keel_audit WHERE event_processed_at IS NULL",
				Integer.class))
			.isEqualTo(10);
		assertThat(deliveries).isEmpty();

		start(Worker.class);

		awaitDelivered("welcome", 10);
		awaitDelivered("audit", 10);
		assertExactlyOnce();
	}

	@Test
	void aRetiredSubscriberIsHandedNothingMore() {
		ConfigurableApplicationContext web = start(Web.class, "events.audit.tables=member");
		JdbcTemplate jdbc = jdbc(web);
		// registered by a test run, or by a deployment that no longer runs
		jdbc.update("INSERT INTO keel_audit_subscriber (name, events) VALUES ('ghost', '{member.created}')");
		write(web, 5);
		await().atMost(Duration.ofSeconds(30))
			.untilAsserted(() -> assertThat(jdbc.queryForObject(
					"SELECT count(*) FROM keel_audit_delivery WHERE subscriber = 'ghost' AND status = 'pending'",
					Integer.class))
				.isEqualTo(5));

		assertThat(web.getBean(EventDeliveries.class).retire("ghost")).isEqualTo(5);

		write(web, 3);
		await().atMost(Duration.ofSeconds(30))
			.untilAsserted(() -> assertThat(jdbc
				.queryForObject("SELECT count(*) FROM keel_audit WHERE event_processed_at IS NULL", Integer.class))
				.isZero());
		assertThat(jdbc.queryForObject("SELECT count(*) FROM keel_audit_delivery WHERE subscriber = 'ghost'",
				Integer.class))
			.isZero();
		assertThat(
				jdbc.queryForObject("SELECT count(*) FROM keel_audit_subscriber WHERE name = 'ghost'", Integer.class))
			.isZero();
	}

	@Test
	void aSubscriberOfThisInstanceCannotBeRetired() {
		ConfigurableApplicationContext worker = start(Worker.class);
		assertThatIllegalArgumentException().isThrownBy(() -> worker.getBean(EventDeliveries.class).retire("welcome"))
			.withMessageContaining("runs in this instance");
	}

	private ConfigurableApplicationContext start(Class<?> app, String... properties) {
		ConfigurableApplicationContext context = new SpringApplicationBuilder(app)
			.properties("spring.datasource.url=" + this.url, TestApplications.SQL_INIT, TestApplications.MEMBER_SCHEMA,
					"events.relay.poll-interval=200ms", "spring.main.banner-mode=off")
			.properties(properties)
			.run();
		this.instances.add(context);
		return context;
	}

	private static void write(ConfigurableApplicationContext instance, int transactions) {
		TransactionTemplate template = instance.getBean(TransactionTemplate.class);
		JdbcTemplate jdbc = jdbc(instance);
		for (int i = 0; i < transactions; i++) {
			template
				.executeWithoutResult((status) -> jdbc.update("INSERT INTO member (name, email) VALUES ('m', 'm')"));
		}
	}

	private static JdbcTemplate jdbc(ConfigurableApplicationContext instance) {
		return instance.getBean(JdbcTemplate.class);
	}

	private static void awaitDelivered(String subscriber, int events) {
		await().atMost(Duration.ofSeconds(30))
			.untilAsserted(() -> assertThat(deliveries.getOrDefault(subscriber, Map.of())).hasSize(events));
	}

	private static void assertExactlyOnce() {
		deliveries.forEach((subscriber, counts) -> assertThat(counts.values()).as(subscriber)
			.allMatch((count) -> count.get() == 1));
	}

	static void delivered(String subscriber, Event event) {
		deliveries.computeIfAbsent(subscriber, (name) -> new ConcurrentHashMap<>())
			.computeIfAbsent(event.id(), (id) -> new AtomicInteger())
			.incrementAndGet();
	}

	static class WelcomeSubscriber {

		@EventSubscriber("member.created")
		void welcome(Event event) {
			delivered("welcome", event);
		}

	}

	static class AuditSubscriber {

		@EventSubscriber("member.created")
		void audit(Event event) {
			delivered("audit", event);
		}

	}

	/**
	 * An instance with no subscribers: it writes, others deliver. It names the tables it
	 * writes in events.audit.tables, so they are audited (with identity and trace) even
	 * before a worker has started.
	 */
	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class Web {

	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	@Import({ WelcomeSubscriber.class, AuditSubscriber.class })
	static class Worker {

	}

	/** The release before "audit" was added. */
	@SpringBootConfiguration
	@EnableAutoConfiguration
	@Import(WelcomeSubscriber.class)
	static class OldWorker {

	}

}
