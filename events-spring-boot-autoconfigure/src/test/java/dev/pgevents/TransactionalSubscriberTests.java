package dev.pgevents;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import javax.sql.DataSource;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.annotation.Propagation;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A {@code @Transactional} subscriber on the audited DataSource's manager (JDBC or JPA),
 * in sync and async mode, beside a second database with a manager of its own: its writes
 * and the record of the delivery commit together, so a failed attempt leaves nothing and
 * a change whose delivery committed is never applied again, while the same subscriber
 * without {@code @Transactional} applies it twice in both cases.
 */
@ExtendWith(OutputCaptureExtension.class)
class TransactionalSubscriberTests {

	private static final Map<String, ConfigurableApplicationContext> applications = new ConcurrentHashMap<>();

	private static final AtomicInteger names = new AtomicInteger();

	@AfterAll
	static void close() {
		applications.values().forEach(ConfigurableApplicationContext::close);
		applications.clear();
	}

	@ParameterizedTest(name = "{0}, {1}")
	@CsvSource({ "sync, jdbc", "async, jdbc", "sync, jpa", "async, jpa" })
	void aFailedAttemptLeavesNothingAndTheRetryAppliesTheChangeOnce(String mode, String manager) {
		ConfigurableApplicationContext app = application(mode, manager);
		JdbcTemplate jdbc = app.getBean("auditedJdbc", JdbcTemplate.class);
		String name = "fail-" + names.incrementAndGet();
		long id = insert(app, name);

		await().atMost(Duration.ofSeconds(20))
			.untilAsserted(() -> assertThat(applied(jdbc, id, "plain")).as("the plain subscriber").isEqualTo(2));
		await().atMost(Duration.ofSeconds(20))
			.untilAsserted(() -> assertThat(ledgerStatus(jdbc, id, "transactional")).isEqualTo("delivered"));
		assertThat(applied(jdbc, id, "transactional")).as("the transactional subscriber").isEqualTo(1);
		assertThat(app.getBean(Subscribers.class).calls(id, "transactional")).as("its calls").isEqualTo(2);
		// a process that stalls while the subscriber runs has its transaction ended by
		// the
		// server once the lease (events.relay.lease, 30s) is past, on a new ledger entry
		// and on one written by the failed attempt alike
		assertThat(app.getBean(Subscribers.class).idleLimits(id)).containsExactly("30s", "30s");
	}

	@ParameterizedTest(name = "{0}, {1}")
	@CsvSource({ "sync, jdbc", "async, jdbc", "sync, jpa", "async, jpa" })
	void aChangeWhoseDeliveryCommittedIsNotAppliedAgainWhenItIsDeliveredAgain(String mode, String manager) {
		ConfigurableApplicationContext app = application(mode, manager);
		JdbcTemplate jdbc = app.getBean("auditedJdbc", JdbcTemplate.class);
		String name = "once-" + names.incrementAndGet();
		long id = insert(app, name);
		await().atMost(Duration.ofSeconds(20))
			.until(() -> jdbc.queryForObject("SELECT event_processed_at IS NOT NULL FROM keel_audit WHERE id = ?",
					Boolean.class, id));
		assertThat(applied(jdbc, id, "transactional")).isEqualTo(1);

		// as if the process had died after the subscribers' commits and before it marked
		// the row: the relay delivers the row again
		jdbc.update("UPDATE keel_audit SET event_processed_at = NULL, scope_id = NULL WHERE id = ?", id);

		await().atMost(Duration.ofSeconds(20))
			.untilAsserted(() -> assertThat(applied(jdbc, id, "plain")).as("the plain subscriber").isEqualTo(2));
		await().atMost(Duration.ofSeconds(20))
			.until(() -> jdbc.queryForObject("SELECT event_processed_at IS NOT NULL FROM keel_audit WHERE id = ?",
					Boolean.class, id));
		assertThat(applied(jdbc, id, "transactional")).as("the transactional subscriber").isEqualTo(1);
		assertThat(app.getBean(Subscribers.class).calls(id, "transactional")).as("its calls").isEqualTo(1);
		assertThat(applied(jdbc, id, "elsewhere")).as("the subscriber on the other manager").isEqualTo(2);
		assertThat(app.getBean(Subscribers.class).calls(id, "read-only")).as("the read-only subscriber").isEqualTo(2);
	}

	@ParameterizedTest(name = "{0}, {1}")
	@CsvSource({ "sync, jdbc", "async, jdbc", "sync, jpa", "async, jpa" })
	void changesCommittedInsideAndAroundTheOtherManagersTransactionsAreAppliedOnce(String mode, String manager) {
		ConfigurableApplicationContext app = application(mode, manager);
		JdbcTemplate jdbc = app.getBean("auditedJdbc", JdbcTemplate.class);
		JdbcTemplate otherJdbc = new JdbcTemplate(app.getBean("otherDataSource", DataSource.class));
		TransactionTemplate other = new TransactionTemplate(
				app.getBean("otherTransactionManager", PlatformTransactionManager.class));
		String inside = "inside-" + names.incrementAndGet();
		String around = "around-" + names.incrementAndGet();
		// the subscriber's transaction begins while the other manager's is still open
		other.executeWithoutResult((outer) -> {
			otherJdbc.update("INSERT INTO member (name, email) VALUES (?, ?)", inside, inside);
			audited(app).executeWithoutResult(
					(inner) -> jdbc.update("INSERT INTO member (name, email) VALUES (?, ?)", inside, inside));
		});
		// and the other manager's commits inside the audited one
		audited(app).executeWithoutResult((outer) -> {
			jdbc.update("INSERT INTO member (name, email) VALUES (?, ?)", around, around);
			other.executeWithoutResult(
					(inner) -> otherJdbc.update("INSERT INTO member (name, email) VALUES (?, ?)", around, around));
		});

		for (String name : List.of(inside, around)) {
			long id = id(jdbc, name);
			await().atMost(Duration.ofSeconds(20))
				.until(() -> jdbc.queryForObject("SELECT event_processed_at IS NOT NULL FROM keel_audit WHERE id = ?",
						Boolean.class, id));
			assertThat(applied(jdbc, id, "transactional")).as(name).isEqualTo(1);
			assertThat(app.getBean(Subscribers.class).calls(id, "transactional")).as(name).isEqualTo(1);
			assertThat(ledgerStatus(jdbc, id, "transactional")).as(name).isEqualTo("delivered");
		}
		assertThat(otherJdbc.queryForObject("SELECT count(*) FROM member WHERE name IN (?, ?)", Integer.class, inside,
				around))
			.isEqualTo(2);
	}

	@Test
	void aSubscriberTransactionalOnAnotherManagerIsAtLeastOnceAndTheStartupLogSaysSo(CapturedOutput output) {
		ConfigurableApplicationContext app = start("sync", "jdbc");
		try {
			assertThat(output).contains("Subscriber 'elsewhere' is @Transactional on transaction manager "
					+ "'otherTransactionManager' (org.springframework.jdbc.datasource.DataSourceTransactionManager), "
					+ "which does not manage the audited DataSource: its deliveries are at least once");
			assertThat(output).contains("Subscriber 'separately' is @Transactional(propagation = REQUIRES_NEW)");
			assertThat(output).doesNotContain("Subscriber 'transactional' is");
			assertThat(output).doesNotContain("Subscriber 'read-only' is");
			JdbcTemplate jdbc = app.getBean("auditedJdbc", JdbcTemplate.class);
			long id = insert(app, "log-" + names.incrementAndGet());
			await().atMost(Duration.ofSeconds(20))
				.until(() -> jdbc.queryForObject("SELECT event_processed_at IS NOT NULL FROM keel_audit WHERE id = ?",
						Boolean.class, id));
			// only the transactional subscriber's deliveries are recorded
			assertThat(jdbc.queryForList("SELECT subscriber FROM keel_audit_delivery WHERE audit_id = ?", String.class,
					id))
				.containsExactly("transactional");
		}
		finally {
			app.close();
		}
	}

	/** A member written in a transaction of the audited database's manager. */
	private static long insert(ConfigurableApplicationContext app, String name) {
		JdbcTemplate jdbc = app.getBean("auditedJdbc", JdbcTemplate.class);
		audited(app).executeWithoutResult(
				(status) -> jdbc.update("INSERT INTO member (name, email) VALUES (?, ?)", name, name));
		return id(jdbc, name);
	}

	private static TransactionTemplate audited(ConfigurableApplicationContext app) {
		return new TransactionTemplate(app.getBean("transactionManager", PlatformTransactionManager.class));
	}

	private static long id(JdbcTemplate jdbc, String name) {
		Long id = jdbc.queryForObject("SELECT id FROM keel_audit WHERE data->>'name' = ?", Long.class, name);
		return (id != null) ? id : -1;
	}

	private static int applied(JdbcTemplate jdbc, long id, String subscriber) {
		Integer count = jdbc.queryForObject("SELECT count(*) FROM applied WHERE event_id = ? AND subscriber = ?",
				Integer.class, id, subscriber);
		return (count != null) ? count : 0;
	}

	private static String ledgerStatus(JdbcTemplate jdbc, long id, String subscriber) {
		return jdbc
			.queryForList("SELECT status FROM keel_audit_delivery WHERE audit_id = ? AND subscriber = ?", String.class,
					id, subscriber)
			.stream()
			.findFirst()
			.orElse("none");
	}

	private static ConfigurableApplicationContext application(String mode, String manager) {
		return applications.computeIfAbsent(mode + "/" + manager, (key) -> start(mode, manager));
	}

	private static ConfigurableApplicationContext start(String mode, String manager) {
		return new SpringApplicationBuilder(SecondDataSourceTests.App.class, Subscribers.class)
			.properties("test.audited-url=" + TestDatabase.create(), "test.other-url=" + TestDatabase.create(),
					"test.audited-manager=" + manager, "events.dispatch.mode=" + mode, "spring.main.banner-mode=off",
					"spring.jpa.hibernate.ddl-auto=none", "spring.jpa.open-in-view=false", "events.audit.tables=member",
					"events.relay.poll-interval=50ms", "events.retry.initial-delay=50ms",
					"events.retry.max-delay=200ms")
			.run();
	}

	/**
	 * The same subscriber five times: transactional on the audited database's manager,
	 * plain, transactional on the other database's manager, read-only, and in a
	 * transaction of its own. Each counts its calls and (but the read-only one) records a
	 * row per call in the audited database's {@code applied} table, which has no key, and
	 * fails its first call of a member whose name starts with {@code fail}, after
	 * writing.
	 */
	@Configuration(proxyBeanMethods = false)
	static class Subscribers {

		private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();

		private final Set<String> failed = ConcurrentHashMap.newKeySet();

		/** The transactional subscriber's idle limit, per call, by event. */
		private final Map<Long, List<String>> idleLimits = new ConcurrentHashMap<>();

		@Bean
		JdbcTemplate auditedJdbc(DataSource dataSource) {
			new JdbcTemplate(dataSource)
				.execute("CREATE TABLE applied (event_id bigint NOT NULL, subscriber text NOT NULL)");
			return new JdbcTemplate(dataSource);
		}

		@Bean
		Transactional transactional(@Qualifier("auditedJdbc") JdbcTemplate jdbc) {
			return new Transactional(this, jdbc);
		}

		@Bean
		Plain plain(@Qualifier("auditedJdbc") JdbcTemplate jdbc) {
			return new Plain(this, jdbc);
		}

		@Bean
		Elsewhere elsewhere(@Qualifier("auditedJdbc") JdbcTemplate jdbc) {
			return new Elsewhere(this, jdbc);
		}

		@Bean
		ReadOnly readOnly(@Qualifier("auditedJdbc") JdbcTemplate jdbc) {
			return new ReadOnly(this, jdbc);
		}

		@Bean
		Separately separately(@Qualifier("auditedJdbc") JdbcTemplate jdbc) {
			return new Separately(this, jdbc);
		}

		List<String> idleLimits(long id) {
			return this.idleLimits.getOrDefault(id, List.of());
		}

		int calls(long id, String subscriber) {
			AtomicInteger count = this.calls.get(id + "/" + subscriber);
			return (count != null) ? count.get() : 0;
		}

		void apply(JdbcTemplate jdbc, String subscriber, Event event) {
			this.calls.computeIfAbsent(event.id() + "/" + subscriber, (key) -> new AtomicInteger()).incrementAndGet();
			jdbc.update("INSERT INTO applied VALUES (?, ?)", Long.parseLong(event.id()), subscriber);
			if (String.valueOf(event.target().data().get("name")).startsWith("fail")
					&& this.failed.add(event.id() + "/" + subscriber)) {
				throw new IllegalStateException("the first attempt fails, after writing");
			}
		}

	}

	static class Transactional {

		private final Subscribers subscribers;

		private final JdbcTemplate jdbc;

		Transactional(Subscribers subscribers, JdbcTemplate jdbc) {
			this.subscribers = subscribers;
			this.jdbc = jdbc;
		}

		@EventSubscriber(value = "member.created", name = "transactional")
		@org.springframework.transaction.annotation.Transactional
		public void created(Event event) {
			this.subscribers.idleLimits
				.computeIfAbsent(Long.parseLong(event.id()), (id) -> new CopyOnWriteArrayList<>())
				.add(this.jdbc.queryForObject("SELECT current_setting('idle_in_transaction_session_timeout')",
						String.class));
			this.subscribers.apply(this.jdbc, "transactional", event);
		}

	}

	static class Plain {

		private final Subscribers subscribers;

		private final JdbcTemplate jdbc;

		Plain(Subscribers subscribers, JdbcTemplate jdbc) {
			this.subscribers = subscribers;
			this.jdbc = jdbc;
		}

		@EventSubscriber(value = "member.created", name = "plain")
		public void created(Event event) {
			this.subscribers.apply(this.jdbc, "plain", event);
		}

	}

	static class Elsewhere {

		private final Subscribers subscribers;

		private final JdbcTemplate jdbc;

		Elsewhere(Subscribers subscribers, JdbcTemplate jdbc) {
			this.subscribers = subscribers;
			this.jdbc = jdbc;
		}

		@EventSubscriber(value = "member.created", name = "elsewhere")
		@org.springframework.transaction.annotation.Transactional("otherTransactionManager")
		public void created(Event event) {
			this.subscribers.apply(this.jdbc, "elsewhere", event);
		}

	}

	@org.springframework.transaction.annotation.Transactional(readOnly = true)
	static class ReadOnly {

		private final Subscribers subscribers;

		private final JdbcTemplate jdbc;

		ReadOnly(Subscribers subscribers, JdbcTemplate jdbc) {
			this.subscribers = subscribers;
			this.jdbc = jdbc;
		}

		@EventSubscriber(value = "member.created", name = "read-only")
		public void created(Event event) {
			// a read-only transaction cannot write: the call is counted only
			this.subscribers.calls.computeIfAbsent(event.id() + "/read-only", (key) -> new AtomicInteger())
				.incrementAndGet();
		}

	}

	static class Separately {

		private final Subscribers subscribers;

		private final JdbcTemplate jdbc;

		Separately(Subscribers subscribers, JdbcTemplate jdbc) {
			this.subscribers = subscribers;
			this.jdbc = jdbc;
		}

		@EventSubscriber(value = "member.created", name = "separately")
		@org.springframework.transaction.annotation.Transactional(propagation = Propagation.REQUIRES_NEW)
		public void created(Event event) {
			this.subscribers.apply(this.jdbc, "separately", event);
		}

	}

}
