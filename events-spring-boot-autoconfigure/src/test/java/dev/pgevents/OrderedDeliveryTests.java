package dev.pgevents;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.IntStream;

import javax.sql.DataSource;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.micrometer.core.instrument.MeterRegistry;

import dev.pgevents.kit.EventLog;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DriverManagerDataSource;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code @EventSubscriber(ordered = true)}: each row's events reach the subscriber in
 * commit order, one call at a time per row, whichever path they take (after commit, the
 * dispatch executor, the relay for outside writes, retries, several instances); a retry
 * or a dead letter holds back its own row only, and a replay or a skip releases it.
 */
class OrderedDeliveryTests {

	static final Calls calls = new Calls();

	final List<ConfigurableApplicationContext> instances = new ArrayList<>();

	String url;

	JdbcTemplate jdbc;

	@BeforeEach
	void database() {
		this.url = TestDatabase.create();
		DataSource dataSource = new DriverManagerDataSource(this.url);
		this.jdbc = new JdbcTemplate(dataSource);
		this.jdbc.execute("CREATE TABLE stock (id int PRIMARY KEY, version int NOT NULL)");
		calls.clear();
	}

	@AfterEach
	void stop() {
		this.instances.forEach(ConfigurableApplicationContext::close);
	}

	@Test
	void eachRowsVersionsArriveInOrderOneCallAtATimeUnderConcurrentWriters() throws Exception {
		ConfigurableApplicationContext app = start("events.dispatch.mode=async", "events.dispatch.threads=4");

		writeConcurrently(List.of(app), 30, 30);

		awaitEveryVersion(30, 30);
		assertInOrderWithoutOverlap(30, 30);
	}

	@Test
	void eachRowsVersionsArriveInOrderWithTwoInstancesSharingTheWork() throws Exception {
		ConfigurableApplicationContext first = start("events.dispatch.mode=async", "events.dispatch.threads=4");
		ConfigurableApplicationContext second = start("events.dispatch.mode=sync");

		writeConcurrently(List.of(first, second), 30, 30);

		awaitEveryVersion(30, 30);
		assertInOrderWithoutOverlap(30, 30);
	}

	@Test
	void aRetryHoldsBackItsOwnRowOnly() {
		ConfigurableApplicationContext app = start("events.retry.initial-delay=1s", "events.retry.max-delay=1s");
		calls.failures.put(1, new AtomicInteger(1));
		TransactionTemplate transactions = app.getBean(TransactionTemplate.class);
		JdbcTemplate jdbc = app.getBean(JdbcTemplate.class);
		write(transactions, jdbc, 1, 1);
		write(transactions, jdbc, 1, 2);
		write(transactions, jdbc, 2, 1);
		write(transactions, jdbc, 2, 2);

		// row 2 flows while row 1's first version waits for its retry, and its second
		// behind it
		await().atMost(Duration.ofSeconds(10)).until(() -> calls.versions(2).equals(List.of(1, 2)));
		assertThat(calls.versions(1)).isEmpty();
		assertThat(waiting(1, 2)).isTrue();
		await().atMost(Duration.ofSeconds(10)).until(() -> calls.versions(1).equals(List.of(1, 2)));
		assertThat(calls.attempts(1)).isEqualTo(3);
	}

	@Test
	void aRetryInOneRelayBatchHoldsBackItsRowInTheNextBatch() throws SQLException {
		start("events.relay.batch-size=5", "events.retry.initial-delay=1s", "events.retry.max-delay=1s");
		calls.failures.put(1, new AtomicInteger(1));
		// the first batch's first call lasts: the second batch is claimed while the first
		// is delivered, before the first batch's outcomes are in the ledger
		calls.delays.put(10, 500);
		try (Connection outside = DriverManager.getConnection(this.url)) {
			outside.setAutoCommit(false);
			// one backlog for the relay: rows 10-13 and row 1's first version make the
			// first
			// batch, row 1's second version and rows 14-17 the second
			for (int id = 10; id <= 13; id++) {
				writeOutside(outside, id, 1);
			}
			writeOutside(outside, 1, 1);
			writeOutside(outside, 1, 2);
			for (int id = 14; id <= 17; id++) {
				writeOutside(outside, id, 1);
			}
			outside.commit();
		}

		// row 1's second version waits for its first, which waits for its retry
		await().atMost(Duration.ofSeconds(10)).until(() -> calls.versions(17).equals(List.of(1)));
		await().atMost(Duration.ofSeconds(10)).until(() -> calls.versions(1).size() == 2);
		assertThat(calls.versions(1)).isEqualTo(List.of(1, 2));
		assertThat(calls.attempts(1)).isEqualTo(3);
	}

	@Test
	void aDeadLetterParksItsRowUntilReplayedThenTheRestFollowsInOrder() {
		ConfigurableApplicationContext app = start("events.retry.max-attempts=1");
		calls.failures.put(1, new AtomicInteger(1));
		writeParkedRow(app);

		EventDeliveries deliveries = app.getBean(EventDeliveries.class);
		Delivery dead = deliveries.find(DeliveryQuery.dead()).get(0);
		// the parked row is listed (the endpoint shows the same), counted by a gauge
		// and in the health details
		EventLog log = app.getBean(EventLog.class);
		assertThat(log.parked(10)).singleElement().satisfies((parked) -> {
			assertThat(parked.subscriber()).isEqualTo("stock");
			assertThat(parked.row()).isEqualTo("stock:1");
			assertThat(parked.eventId()).isEqualTo(dead.eventId());
			assertThat(parked.waiting()).isEqualTo(2);
		});
		await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertThat(parkedGauge(app)).isEqualTo(1.0));
		assertThat(app.getBean("eventsHealthIndicator", HealthIndicator.class).health().getDetails())
			.containsEntry("parked", Map.of("stock", 1L));

		assertThat(deliveries.replay(dead.eventId(), dead.subscriber())).isTrue();

		await().atMost(Duration.ofSeconds(10)).until(() -> calls.versions(1).equals(List.of(1, 2, 3)));
		assertThat(log.parked(10)).isEmpty();
		await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertThat(parkedGauge(app)).isZero());
	}

	private static double parkedGauge(ConfigurableApplicationContext app) {
		return app.getBean(MeterRegistry.class).get("events.parked").tag("subscriber", "stock").gauge().value();
	}

	@Test
	void aSkippedDeadLetterReleasesTheRestOfItsRowInOrder() {
		ConfigurableApplicationContext app = start("events.retry.max-attempts=1");
		calls.failures.put(1, new AtomicInteger(1));
		writeParkedRow(app);

		EventDeliveries deliveries = app.getBean(EventDeliveries.class);
		Delivery dead = deliveries.find(DeliveryQuery.dead()).get(0);
		assertThat(deliveries.skip(dead.eventId(), dead.subscriber())).isTrue();
		assertThat(deliveries.skip(dead.eventId(), dead.subscriber())).as("skipped already").isFalse();

		await().atMost(Duration.ofSeconds(10)).until(() -> calls.versions(1).equals(List.of(2, 3)));
		assertThat(deliveries.find(DeliveryQuery.all().subscriber("stock")))
			.filteredOn((delivery) -> delivery.eventId().equals(dead.eventId()))
			.singleElement()
			.satisfies((delivery) -> assertThat(delivery.status()).isEqualTo(Delivery.Status.SKIPPED));
	}

	/**
	 * Row 1's first version is dead-lettered and its two later versions wait; row 2 is
	 * delivered meanwhile.
	 */
	private void writeParkedRow(ConfigurableApplicationContext app) {
		TransactionTemplate transactions = app.getBean(TransactionTemplate.class);
		JdbcTemplate jdbc = app.getBean(JdbcTemplate.class);
		write(transactions, jdbc, 1, 1);
		await().atMost(Duration.ofSeconds(10))
			.until(() -> !app.getBean(EventDeliveries.class).find(DeliveryQuery.dead()).isEmpty());
		write(transactions, jdbc, 1, 2);
		write(transactions, jdbc, 1, 3);
		write(transactions, jdbc, 2, 1);
		write(transactions, jdbc, 2, 2);
		await().atMost(Duration.ofSeconds(10)).until(() -> calls.versions(2).equals(List.of(1, 2)));
		assertThat(waiting(1, 2)).isTrue();
		assertThat(waiting(1, 3)).isTrue();
		assertThat(calls.versions(1)).isEmpty();
	}

	/**
	 * Whether a version of a row waits in the ledger for the subscriber, with no attempt
	 * made.
	 */
	private boolean waiting(int id, int version) {
		return Boolean.TRUE.equals(this.jdbc.queryForObject("SELECT EXISTS (SELECT FROM keel_audit_delivery d "
				+ "JOIN keel_audit a ON a.id = d.audit_id WHERE d.subscriber = 'stock' AND d.status = 'pending' "
				+ "AND d.attempts = 0 AND (a.data ->> 'id')::int = ? AND (a.data ->> 'version')::int = ?)",
				Boolean.class, id, version));
	}

	/**
	 * Write {@code versions} versions of each of {@code rows} rows from 6 threads: each
	 * row's versions one after the other, different rows at once, through the instances'
	 * transactions, every fifth version from outside the applications (the relay's path).
	 */
	private void writeConcurrently(List<ConfigurableApplicationContext> apps, int rows, int versions) throws Exception {
		AtomicInteger[] next = IntStream.range(0, rows)
			.mapToObj((i) -> new AtomicInteger(1))
			.toArray(AtomicInteger[]::new);
		ReentrantLock[] locks = IntStream.range(0, rows)
			.mapToObj((i) -> new ReentrantLock())
			.toArray(ReentrantLock[]::new);
		AtomicInteger left = new AtomicInteger(rows * versions);
		ExecutorService writers = Executors.newFixedThreadPool(6);
		List<Future<?>> done = new ArrayList<>();
		for (int w = 0; w < 6; w++) {
			done.add(writers.submit(() -> {
				try (Connection outside = DriverManager.getConnection(this.url)) {
					while (left.get() > 0) {
						int row = ThreadLocalRandom.current().nextInt(rows);
						if (!locks[row].tryLock()) {
							continue;
						}
						try {
							int version = next[row].get();
							if (version > versions) {
								continue;
							}
							if (version % 5 == 0) {
								writeOutside(outside, row + 1, version);
							}
							else {
								ConfigurableApplicationContext app = apps
									.get(ThreadLocalRandom.current().nextInt(apps.size()));
								write(app.getBean(TransactionTemplate.class), app.getBean(JdbcTemplate.class), row + 1,
										version);
							}
							next[row].incrementAndGet();
							left.decrementAndGet();
						}
						finally {
							locks[row].unlock();
						}
					}
				}
				return null;
			}));
		}
		for (Future<?> writer : done) {
			writer.get();
		}
		writers.shutdown();
	}

	private static void write(TransactionTemplate transactions, JdbcTemplate jdbc, int id, int version) {
		transactions.executeWithoutResult((status) -> jdbc.update("INSERT INTO stock (id, version) VALUES (?, ?) "
				+ "ON CONFLICT (id) DO UPDATE SET version = excluded.version", id, version));
	}

	private static void writeOutside(Connection outside, int id, int version) throws SQLException {
		try (PreparedStatement write = outside.prepareStatement(
				"INSERT INTO stock (id, version) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET version = excluded.version")) {
			write.setInt(1, id);
			write.setInt(2, version);
			write.executeUpdate();
		}
	}

	private static void awaitEveryVersion(int rows, int versions) {
		await().atMost(Duration.ofSeconds(60))
			.untilAsserted(() -> assertThat(IntStream.rangeClosed(1, rows).map((id) -> calls.versions(id).size()))
				.as("calls per row")
				.allMatch((count) -> count >= versions));
	}

	private static void assertInOrderWithoutOverlap(int rows, int versions) {
		List<Integer> all = IntStream.rangeClosed(1, versions).boxed().toList();
		for (int id = 1; id <= rows; id++) {
			assertThat(calls.versions(id)).as("versions of row " + id).isEqualTo(all);
		}
		assertThat(calls.overlaps).as("calls for one row that overlapped").hasValue(0);
	}

	private ConfigurableApplicationContext start(String... properties) {
		ConfigurableApplicationContext instance = new SpringApplicationBuilder(App.class)
			.properties("spring.datasource.url=" + this.url, "spring.main.banner-mode=off",
					"events.relay.poll-interval=100ms")
			.properties(properties)
			.run();
		this.instances.add(instance);
		return instance;
	}

	/**
	 * What the ordered subscriber received, per row, across instances.
	 */
	static final class Calls {

		final Map<Integer, List<Integer>> versions = new ConcurrentHashMap<>();

		final Map<Integer, AtomicBoolean> inCall = new ConcurrentHashMap<>();

		final Map<Integer, AtomicInteger> attempts = new ConcurrentHashMap<>();

		final Map<Integer, AtomicInteger> failures = new ConcurrentHashMap<>();

		final Map<Integer, Integer> delays = new ConcurrentHashMap<>();

		final AtomicInteger overlaps = new AtomicInteger();

		void take(int id, int version) throws InterruptedException {
			AtomicBoolean busy = this.inCall.computeIfAbsent(id, (key) -> new AtomicBoolean());
			if (!busy.compareAndSet(false, true)) {
				this.overlaps.incrementAndGet();
			}
			try {
				this.attempts.computeIfAbsent(id, (key) -> new AtomicInteger()).incrementAndGet();
				AtomicInteger failing = this.failures.get(id);
				if (failing != null && failing.getAndDecrement() > 0) {
					throw new IllegalStateException("row " + id + " fails");
				}
				// a call that takes a moment, so that calls for one row would overlap
				Thread.sleep(this.delays.getOrDefault(id, ThreadLocalRandom.current().nextInt(3)));
				this.versions.computeIfAbsent(id, (key) -> new CopyOnWriteArrayList<>()).add(version);
			}
			finally {
				busy.set(false);
			}
		}

		List<Integer> versions(int id) {
			return List.copyOf(this.versions.getOrDefault(id, List.of()));
		}

		int attempts(int id) {
			return this.attempts.getOrDefault(id, new AtomicInteger()).get();
		}

		void clear() {
			this.versions.clear();
			this.inCall.clear();
			this.attempts.clear();
			this.failures.clear();
			this.delays.clear();
			this.overlaps.set(0);
		}

	}

	static class StockSubscriber {

		@EventSubscriber(value = { "stock.created", "stock.updated" }, name = "stock", ordered = true)
		void take(Event event) throws InterruptedException {
			calls.take(Integer.parseInt(event.target().id()),
					((Number) event.target().data().get("version")).intValue());
		}

	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class App {

		@Bean
		StockSubscriber stockSubscriber() {
			return new StockSubscriber();
		}

	}

}
