package dev.pgevents;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import javax.sql.DataSource;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.StringDeserializer;
import kafka.server.BrokerServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import dev.pgevents.internal.support.StartupFailure;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.io.DefaultResourceLoader;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DriverManagerDataSource;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Forwarding routes to Kafka, against a real broker in this JVM (KRaft): every committed
 * change reaches the topic once, keyed by its row, with the CloudEvents headers, in
 * commit order per row; changes that cannot be sent (the topic does not exist yet) wait
 * for their retries and follow in order; and a route that cannot work fails the startup
 * naming its property.
 */
class KafkaForwardingTests {

	private static final JsonMapper JSON = JsonMapper.builder().build();

	final List<ConfigurableApplicationContext> instances = new ArrayList<>();

	EmbeddedKafkaKraftBroker broker;

	String url;

	JdbcTemplate jdbc;

	@BeforeEach
	void start() {
		this.broker = new EmbeddedKafkaKraftBroker(1, 4, "stock");
		this.broker.afterPropertiesSet();
		this.url = TestDatabase.create();
		DataSource dataSource = new DriverManagerDataSource(this.url);
		this.jdbc = new JdbcTemplate(dataSource);
		this.jdbc.execute("CREATE TABLE stock (id int PRIMARY KEY, version int NOT NULL, note text)");
	}

	@AfterEach
	void stop() {
		this.instances.forEach(ConfigurableApplicationContext::close);
		if (this.broker != null) {
			this.broker.destroy();
		}
	}

	@Test
	void everyChangeReachesTheTopicOnceInOrderPerRowWithItsHeaders() throws Exception {
		ConfigurableApplicationContext app = start("events.dispatch.mode=async");
		TransactionTemplate transactions = app.getBean(TransactionTemplate.class);
		JdbcTemplate appJdbc = app.getBean(JdbcTemplate.class);
		int rows = 100;
		int versions = 100;
		// 100 rows x 100 versions: each row's versions written by one of 4 threads, in
		// order, every third from outside the application (through the relay)
		ExecutorService writers = Executors.newFixedThreadPool(4);
		List<Future<?>> written = new ArrayList<>();
		for (int thread = 0; thread < 4; thread++) {
			int first = thread;
			written.add(writers.submit(() -> {
				try (Connection outside = DriverManager.getConnection(this.url)) {
					for (int version = 0; version < versions; version++) {
						for (int row = first; row < rows; row += 4) {
							if (version % 3 == 2) {
								write(outside, row, version);
							}
							else {
								int id = row;
								int v = version;
								transactions.executeWithoutResult(
										(status) -> appJdbc.update(
												"INSERT INTO stock VALUES (?, ?, 'in app') ON CONFLICT (id) DO UPDATE "
														+ "SET version = excluded.version, note = excluded.note",
												id, v));
							}
						}
					}
				}
				return null;
			}));
		}
		for (Future<?> future : written) {
			future.get();
		}
		writers.shutdown();
		Long changes = this.jdbc.queryForObject("SELECT count(*) FROM keel_audit", Long.class);
		assertThat(changes).isEqualTo((long) rows * versions);

		List<ConsumerRecord<String, String>> records = consume(rows * versions, Duration.ofSeconds(120));
		assertThat(records).hasSize(rows * versions);
		assertThat(records.stream().map(this::id).distinct()).hasSize(rows * versions);
		Map<String, List<Integer>> versionsByKey = new HashMap<>();
		for (ConsumerRecord<String, String> record : records) {
			JsonNode event = JSON.readTree(record.value());
			assertThat(record.key()).isEqualTo(event.get("target").get("id").asString());
			versionsByKey.computeIfAbsent(record.key(), (key) -> new ArrayList<>())
				.add(event.get("target").get("data").get("version").asInt());
		}
		assertThat(versionsByKey).hasSize(rows);
		versionsByKey
			.forEach((key, seen) -> assertThat(seen).as("versions of row %s", key).isSorted().hasSize(versions));

		ConsumerRecord<String, String> first = records.stream()
			.filter((record) -> record.key().equals("7") && header(record, "ce_type").equals("stock.created"))
			.findFirst()
			.orElseThrow();
		JsonNode event = JSON.readTree(first.value());
		assertThat(event.get("eventName").asString()).isEqualTo("stock.created");
		assertThat(event.get("target").get("type").asString()).isEqualTo("Stock");
		assertThat(event.get("target").get("data").get("note").asString()).isEqualTo("in app");
		assertThat(header(first, "ce_specversion")).isEqualTo("1.0");
		assertThat(header(first, "ce_id")).isEqualTo(event.get("id").asString());
		assertThat(header(first, "ce_source")).isEqualTo("stock-service");
		assertThat(header(first, "ce_time")).isEqualTo(event.get("occurredAt").asString());
		assertThat(header(first, "ce_subject")).isEqualTo("7");
		assertThat(header(first, "ce_table")).isEqualTo("stock");
		assertThat(header(first, "content-type")).isEqualTo("application/json");
		assertThat(header(first, "traceparent")).matches("00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]");
		assertThat(this.jdbc.queryForObject("SELECT count(*) FROM keel_audit_delivery "
				+ "WHERE subscriber = 'kafka:stock' AND status <> 'delivered'", Long.class))
			.isZero();
	}

	@Test
	void changesThatCannotBeSentWaitForTheirRetriesAndFollowInOrder() throws Exception {
		// a broker without the topic, which it does not create: every send fails until
		// the topic exists
		this.broker.destroy();
		this.broker = new EmbeddedKafkaKraftBroker(1, 4);
		this.broker.brokerProperty("auto.create.topics.enable", "false");
		this.broker.afterPropertiesSet();
		ConfigurableApplicationContext app = start("events.retry.max-attempts=1000", "events.retry.initial-delay=200ms",
				"events.retry.max-delay=1s", "spring.kafka.producer.properties.max.block.ms=500");
		TransactionTemplate transactions = app.getBean(TransactionTemplate.class);
		JdbcTemplate appJdbc = app.getBean(JdbcTemplate.class);
		try (Connection outside = DriverManager.getConnection(this.url)) {
			for (int version = 0; version < 10; version++) {
				writeRows(transactions, appJdbc, outside, version);
			}
			await().atMost(Duration.ofSeconds(30))
				.until(() -> this.jdbc.queryForObject("SELECT count(*) FROM keel_audit_delivery WHERE subscriber = "
						+ "'kafka:stock' AND status = 'pending' AND attempts > 1", Long.class) > 0);
			this.broker.addTopics(new NewTopic("stock", 4, (short) 1));
			for (int version = 10; version < 20; version++) {
				writeRows(transactions, appJdbc, outside, version);
			}
		}
		List<ConsumerRecord<String, String>> records = consume(400, Duration.ofSeconds(120));
		assertThat(records).hasSize(400);
		assertThat(records.stream().map(this::id).distinct()).hasSize(400);
		Map<String, List<Integer>> versionsByKey = new HashMap<>();
		for (ConsumerRecord<String, String> record : records) {
			versionsByKey.computeIfAbsent(record.key(), (key) -> new ArrayList<>())
				.add(JSON.readTree(record.value()).get("target").get("data").get("version").asInt());
		}
		assertThat(versionsByKey).hasSize(20);
		versionsByKey.forEach((key, seen) -> assertThat(seen).as("versions of row %s", key).isSorted().hasSize(20));
	}

	@Test
	void aBrokerStoppedAndStartedAgainLosesNothingAndReordersNothing() throws Exception {
		// sends fail within a second of the broker going away, so that the outage goes
		// through the ledger's retries, not only through the producer's own
		ConfigurableApplicationContext app = start("events.retry.max-attempts=1000", "events.retry.initial-delay=200ms",
				"events.retry.max-delay=1s", "spring.kafka.producer.properties.max.block.ms=1000",
				"spring.kafka.producer.properties.request.timeout.ms=1000",
				"spring.kafka.producer.properties.delivery.timeout.ms=2000");
		TransactionTemplate transactions = app.getBean(TransactionTemplate.class);
		JdbcTemplate appJdbc = app.getBean(JdbcTemplate.class);
		BrokerServer server = this.broker.getCluster().brokers().values().iterator().next();
		int versions = 0;
		try (Connection outside = DriverManager.getConnection(this.url)) {
			for (; versions < 10; versions++) {
				writeRows(transactions, appJdbc, outside, versions);
			}
			server.shutdown();
			server.awaitShutdown();
			for (; versions < 20; versions++) {
				writeRows(transactions, appJdbc, outside, versions);
			}
			await().atMost(Duration.ofSeconds(60))
				.pollInterval(Duration.ofMillis(100))
				.until(() -> this.jdbc.queryForObject("SELECT count(*) FROM keel_audit_delivery WHERE subscriber = "
						+ "'kafka:stock' AND status = 'pending' AND attempts > 1", Long.class) > 0);
			server.startup();
			for (; versions < 30; versions++) {
				writeRows(transactions, appJdbc, outside, versions);
			}
		}
		int expected = 20 * versions;
		List<ConsumerRecord<String, String>> records = consume(expected, Duration.ofSeconds(120));
		assertThat(records.stream().map(this::id).distinct()).hasSize(expected);
		Map<String, List<Integer>> versionsByKey = new HashMap<>();
		for (ConsumerRecord<String, String> record : records) {
			versionsByKey.computeIfAbsent(record.key(), (key) -> new ArrayList<>())
				.add(JSON.readTree(record.value()).get("target").get("data").get("version").asInt());
		}
		assertThat(versionsByKey).hasSize(20);
		// a change the broker took without its acknowledgement reaching the relay is sent
		// again (at least once), right after itself: the versions of a row never go back
		versionsByKey.forEach((key, seen) -> assertThat(seen).as("versions of row %s", key).isSorted());
		assertThat(this.jdbc.queryForObject("SELECT count(*) FROM keel_audit_delivery "
				+ "WHERE subscriber = 'kafka:stock' AND status <> 'delivered'", Long.class))
			.isZero();
	}

	private void writeRows(TransactionTemplate transactions, JdbcTemplate appJdbc, Connection outside, int version)
			throws Exception {
		for (int row = 0; row < 20; row++) {
			if (row % 2 == 0) {
				write(outside, row, version);
			}
			else {
				int id = row;
				transactions.executeWithoutResult((status) -> appJdbc
					.update("INSERT INTO stock VALUES (?, ?, 'in app') ON CONFLICT (id) DO UPDATE "
							+ "SET version = excluded.version, note = excluded.note", id, version));
			}
		}
	}

	@Test
	void aRouteThatNamesNoKnownEventFailsTheStartupNamingItsProperty() {
		assertThatThrownBy(() -> start("events.forward.kafka.routes[0].events[0]=stock.create"))
			.hasRootCauseInstanceOf(StartupFailure.class)
			.rootCause()
			.hasMessageContaining("Forwarding route events.forward.kafka.routes[0] (topic 'stock')")
			.hasMessageContaining("event name 'stock.create' is not");
	}

	@Test
	void aRouteWithoutSpringKafkaFailsTheStartupNamingTheDependency() {
		assertThatThrownBy(() -> new SpringApplicationBuilder(App.class)
			.resourceLoader(new DefaultResourceLoader(new FilteredClassLoader(KafkaTemplate.class)))
			.properties(properties())
			.run()).hasRootCauseInstanceOf(StartupFailure.class)
			.rootCause()
			.hasMessageContaining("events.forward.kafka.routes[0] (topic 'stock') needs Spring for Apache Kafka")
			.satisfies(
					(failure) -> assertThat(((StartupFailure) failure).action()).contains("spring-boot-starter-kafka"));
	}

	private ConfigurableApplicationContext start(String... properties) {
		ConfigurableApplicationContext instance = new SpringApplicationBuilder(App.class).properties(properties())
			.properties(properties)
			.run();
		this.instances.add(instance);
		return instance;
	}

	private String[] properties() {
		return new String[] { "spring.datasource.url=" + this.url, "spring.main.banner-mode=off",
				"spring.application.name=stock-service", "events.relay.poll-interval=100ms",
				"spring.kafka.bootstrap-servers=" + this.broker.getBrokersAsString(),
				"events.forward.kafka.routes[0].events[0]=stock.*", "events.forward.kafka.routes[0].topic=stock" };
	}

	private static void write(Connection connection, int id, int version) throws Exception {
		try (PreparedStatement statement = connection.prepareStatement("INSERT INTO stock VALUES (?, ?, 'outside') "
				+ "ON CONFLICT (id) DO UPDATE SET version = excluded.version, note = excluded.note")) {
			statement.setInt(1, id);
			statement.setInt(2, version);
			statement.executeUpdate();
		}
	}

	private List<ConsumerRecord<String, String>> consume(int expected, Duration timeout) {
		Map<String, Object> config = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, this.broker.getBrokersAsString(),
				ConsumerConfig.GROUP_ID_CONFIG, "test", ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
				ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
				ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
		List<ConsumerRecord<String, String>> records = new ArrayList<>();
		Set<String> seen = new HashSet<>();
		long deadline = System.nanoTime() + timeout.toNanos();
		try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config)) {
			consumer.subscribe(List.of("stock"));
			// then a little longer, to see any duplicate
			long quietUntil = Long.MAX_VALUE;
			while (System.nanoTime() < Math.min(deadline, quietUntil)) {
				consumer.poll(Duration.ofMillis(200)).forEach(records::add);
				records.forEach((record) -> seen.add(id(record)));
				if (seen.size() >= expected && quietUntil == Long.MAX_VALUE) {
					quietUntil = System.nanoTime() + Duration.ofSeconds(2).toNanos();
				}
			}
		}
		return records;
	}

	private String id(ConsumerRecord<String, String> record) {
		return header(record, "ce_id");
	}

	private static String header(ConsumerRecord<String, String> record, String name) {
		Header header = record.headers().lastHeader(name);
		return (header != null) ? new String(header.value(), StandardCharsets.UTF_8) : "";
	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class App {

	}

}
