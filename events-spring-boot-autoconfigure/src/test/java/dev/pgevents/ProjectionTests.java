package dev.pgevents;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
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

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.pgevents.kit.EventLog;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.RowCallbackHandler;
import org.springframework.jdbc.datasource.DriverManagerDataSource;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.awaitility.Awaitility.await;

/**
 * What a projection needs beyond order: a backfill that starts it from the rows that
 * exist, consistent with the writes that go on meanwhile, and a rewind that delivers past
 * events to one subscriber again.
 */
class ProjectionTests {

	static final Projection projection = new Projection();

	String url;

	JdbcTemplate jdbc;

	ConfigurableApplicationContext app;

	@BeforeEach
	void database() {
		this.url = TestDatabase.create();
		this.jdbc = new JdbcTemplate(new DriverManagerDataSource(this.url));
		this.jdbc.execute("CREATE TABLE product (id int PRIMARY KEY, name text NOT NULL, version int NOT NULL)");
		// rows that exist before the projection does: no event ever told it of them
		this.jdbc.update("INSERT INTO product SELECT i, 'p' || i, 1 FROM generate_series(1, 2000) i");
		projection.clear();
		this.app = new SpringApplicationBuilder(App.class)
			.properties("spring.datasource.url=" + this.url, "spring.main.banner-mode=off",
					"events.relay.poll-interval=100ms", "events.relay.batch-size=100")
			.run();
	}

	@AfterEach
	void stop() {
		this.app.close();
	}

	@Test
	void aBackfillUnderConcurrentWritesEndsEqualToTheTableWithOneSnapshotPerRow() throws Exception {
		EventDeliveries deliveries = this.app.getBean(EventDeliveries.class);
		AtomicBoolean writing = new AtomicBoolean(true);
		ExecutorService writers = Executors.newFixedThreadPool(2);
		List<Future<?>> done = new ArrayList<>();
		done.add(writers.submit(() -> write(writing, true)));
		done.add(writers.submit(() -> write(writing, false)));

		long queued = deliveries.backfill("index", "product");
		writing.set(false);
		for (Future<?> writer : done) {
			writer.get();
		}
		writers.shutdown();

		EventLog log = this.app.getBean(EventLog.class);
		await().atMost(Duration.ofSeconds(60))
			.until(() -> log.outstanding(new EventLog.Position(0, Instant.EPOCH), 10).isEmpty());
		assertThat(projection.rows).isEqualTo(table());
		assertThat(projection.snapshots.values()).allMatch((count) -> count.get() == 1);
		assertThat(projection.snapshots).hasSize((int) queued);
		assertThat(queued).isGreaterThan(1000);
	}

	@Test
	void aBackfillIsRefusedForWhatCannotTakeIt() {
		EventDeliveries deliveries = this.app.getBean(EventDeliveries.class);
		assertThatIllegalArgumentException().isThrownBy(() -> deliveries.backfill("nobody", "product"))
			.withMessageContaining("no subscriber 'nobody'");
		assertThatIllegalArgumentException().isThrownBy(() -> deliveries.backfill("index", "nothing"))
			.withMessageContaining("Table 'nothing' is not audited");
		assertThatIllegalArgumentException().isThrownBy(() -> deliveries.backfill("history", "product"))
			.withMessageContaining("does not take 'product.snapshot'");
		assertThatIllegalArgumentException().isThrownBy(() -> deliveries.rewind("nobody", Instant.now()))
			.withMessageContaining("no subscriber 'nobody'");
	}

	@Test
	void aRewindDeliversTheSubscribersEventsSinceAnInstantAgainAndNoOneElses() {
		TransactionTemplate transactions = this.app.getBean(TransactionTemplate.class);
		JdbcTemplate jdbc = this.app.getBean(JdbcTemplate.class);
		for (int i = 1; i <= 3; i++) {
			int id = i;
			transactions
				.executeWithoutResult((status) -> jdbc.update("UPDATE product SET version = 2 WHERE id = ?", id));
		}
		await().atMost(Duration.ofSeconds(10)).until(() -> projection.history.size() == 3);
		Instant between = this.jdbc.queryForObject("SELECT clock_timestamp()", java.sql.Timestamp.class).toInstant();
		for (int i = 1; i <= 2; i++) {
			int id = i;
			transactions
				.executeWithoutResult((status) -> jdbc.update("UPDATE product SET version = 3 WHERE id = ?", id));
		}
		await().atMost(Duration.ofSeconds(10))
			.until(() -> projection.history.size() == 5 && projection.indexCalls.get() == 5);
		int indexed = projection.indexCalls.get();
		EventDeliveries deliveries = this.app.getBean(EventDeliveries.class);

		assertThat(deliveries.rewind("history", between)).isEqualTo(2);
		await().atMost(Duration.ofSeconds(10)).until(() -> projection.history.size() == 7);
		assertThat(projection.history.subList(5, 7)).containsExactly("1:3", "2:3");

		assertThat(deliveries.rewind("history", between.minusSeconds(3600))).isEqualTo(5);
		await().atMost(Duration.ofSeconds(10)).until(() -> projection.history.size() == 12);
		assertThat(projection.history.subList(7, 12)).containsExactlyInAnyOrder("1:2", "2:2", "3:2", "1:3", "2:3");
		// per row, the original order
		List<String> rowOne = projection.history.subList(7, 12).stream().filter((e) -> e.startsWith("1:")).toList();
		assertThat(rowOne).containsExactly("1:2", "1:3");
		assertThat(projection.indexCalls).as("the other subscriber is not called again").hasValue(indexed);
	}

	/**
	 * Updates, inserts and deletes, in the application's transactions or from outside it,
	 * until told to stop.
	 */
	private Void write(AtomicBoolean writing, boolean outside) throws Exception {
		TransactionTemplate transactions = this.app.getBean(TransactionTemplate.class);
		JdbcTemplate jdbc = this.app.getBean(JdbcTemplate.class);
		try (Connection connection = DriverManager.getConnection(this.url);
				Statement statement = connection.createStatement()) {
			while (writing.get()) {
				ThreadLocalRandom random = ThreadLocalRandom.current();
				int id = random.nextInt(1, 2400);
				String sql = switch (random.nextInt(3)) {
					case 0 ->
						"UPDATE product SET version = version + 1, name = 'u" + random.nextInt() + "' WHERE id = " + id;
					case 1 -> "INSERT INTO product VALUES (" + id + ", 'n" + id + "', 1) ON CONFLICT DO NOTHING";
					default -> "DELETE FROM product WHERE id = " + id;
				};
				if (outside) {
					statement.execute(sql);
				}
				else {
					transactions.executeWithoutResult((status) -> jdbc.update(sql));
				}
			}
		}
		return null;
	}

	private Map<Integer, String> table() {
		Map<Integer, String> rows = new HashMap<>();
		this.jdbc.query("SELECT id, name, version FROM product", (RowCallbackHandler) (rs) -> {
			rows.put(rs.getInt(1), rs.getString(2) + "/" + rs.getInt(3));
		});
		return rows;
	}

	/**
	 * A projection of {@code product}, kept by an ordered subscriber that applies
	 * snapshots, creates and updates as upserts and deletes as deletes; and a history
	 * subscriber.
	 */
	static final class Projection {

		final Map<Integer, String> rows = new ConcurrentHashMap<>();

		final Map<Integer, AtomicInteger> snapshots = new ConcurrentHashMap<>();

		final List<String> history = new CopyOnWriteArrayList<>();

		final AtomicInteger indexCalls = new AtomicInteger();

		void clear() {
			this.rows.clear();
			this.snapshots.clear();
			this.history.clear();
			this.indexCalls.set(0);
		}

	}

	static class Subscribers {

		@EventSubscriber(value = { "product.created", "product.updated", "product.deleted", "product.snapshot" },
				ordered = true)
		void index(Event event) {
			projection.indexCalls.incrementAndGet();
			int id = Integer.parseInt(event.target().id());
			if (event.operation() == Event.Operation.DELETED) {
				projection.rows.remove(id);
				return;
			}
			if (event.operation() == Event.Operation.SNAPSHOT) {
				projection.snapshots.computeIfAbsent(id, (key) -> new AtomicInteger()).incrementAndGet();
			}
			Map<String, Object> data = event.target().data();
			projection.rows.put(id, data.get("name") + "/" + data.get("version"));
		}

		@EventSubscriber("product.updated")
		void history(Event event) {
			projection.history.add(event.target().id() + ":" + event.target().data().get("version"));
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
