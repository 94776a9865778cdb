package dev.pgevents.benchmarks;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.ToLongFunction;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;

import dev.pgevents.Event;
import dev.pgevents.EventDeliveries;
import dev.pgevents.EventSubscriber;
import dev.pgevents.IdentityResolver;
import dev.pgevents.Trace;
import dev.pgevents.TraceSource;

import org.springframework.amqp.core.BindingBuilder;
import org.springframework.amqp.core.Declarables;
import org.springframework.amqp.core.Queue;
import org.springframework.amqp.core.QueueInformation;
import org.springframework.amqp.core.TopicExchange;
import org.springframework.amqp.rabbit.core.RabbitAdmin;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.core.Ordered;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;
import org.springframework.modulith.events.ApplicationModuleListener;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Side-by-side benchmark of what a transaction costs: a plain insert, the starter's
 * capture, its dispatch (sync and async), Spring Modulith's event publication registry;
 * then bulk updates and a backlog. Every scenario runs in this one JVM against one
 * PostgreSQL, with fresh tables, a warm-up and {@link #REPETITIONS} measured repetitions
 * whose medians are printed.
 * <p>
 * The database: {@code BENCH_DATABASE_URL} (an admin URL, on whose server the database
 * {@code events_bench} is recreated), else the local server on 127.0.0.1:5432 if it
 * answers, else an embedded PostgreSQL.
 */
public final class Benchmarks {

	static final int REPETITIONS = Integer.getInteger("bench.repetitions", 3);

	static final int TRANSACTIONS = Integer.getInteger("bench.transactions", 20_000);

	static final int WARMUP = Integer.getInteger("bench.warmup", 2_000);

	/**
	 * Transactions before the first measured run of each scenario: the JIT compiles the
	 * starter's paths once per JVM, and a scenario that runs more code would otherwise
	 * pay for its compilation in its first repetition.
	 */
	static final int FIRST_WARMUP = Integer.getInteger("bench.first-warmup", 10_000);

	static final int BULK_ROWS = Integer.getInteger("bench.bulk", 100_000);

	/**
	 * Unmeasured repetitions before a forwarding scenario's measured ones: the JIT
	 * compiles the broker client's paths (and the in-process Kafka broker's) only there,
	 * and was still compiling through a second repetition of 100,000 events.
	 */
	static final int FORWARD_WARMUPS = Integer.getInteger("bench.forward-warmups", 2);

	/** The backlog that 1, 2 and 4 instances drain in the instances scenario. */
	static final int INSTANCE_ROWS = Integer.getInteger("bench.instance-rows", 200_000);

	/** How many instances drain it side by side. */
	static final int[] INSTANCES = { 1, 2, 4 };

	/** Rows past their retention in the retention scenario. */
	static final int RETENTION_ROWS = Integer.getInteger("bench.retention", 2_000_000);

	/** Processed rows in the audit table of the large-table scenario. */
	static final int LARGE_ROWS = Integer.getInteger("bench.large", 10_000_000);

	/** Rows pending for another running instance in the large-table scenario. */
	static final int LARGE_PENDING = Integer.getInteger("bench.large-pending", 100_000);

	/**
	 * Whether the scenarios keep the audit table as it is (the large-table scenario's
	 * rows) instead of starting from empty tables.
	 */
	private boolean keepAudit;

	/** Transactions of each half of a round of the tx-pair scenario. */
	static final int PAIR_ROUND = Integer.getInteger("bench.pair-round", 1_000);

	/** Rounds of the tx-pair scenario. */
	static final int PAIR_ROUNDS = Integer.getInteger("bench.pair-rounds", 20);

	/**
	 * tx-pair's control: both subscribers plain, so the ratio shows what the method
	 * itself tilts (two tables, the order of the halves).
	 */
	static final boolean PAIR_CONTROL = Boolean.getBoolean("bench.pair-control");

	/** Rows of the backfill scenario. */
	static final int BACKFILL_ROWS = Integer.getInteger("bench.backfill", 1_000_000);

	/** The producer thread counts to measure, e.g. {@code -Dbench.threads=4}. */
	static final int[] THREADS = Arrays.stream(System.getProperty("bench.threads", "1,4").split(","))
		.mapToInt((threads) -> Integer.parseInt(threads.trim()))
		.toArray();

	static final String MEMBER = """
			CREATE TABLE member (
				id uuid PRIMARY KEY,
				name text NOT NULL,
				email text NOT NULL,
				created_at timestamptz NOT NULL
			)""";

	/** Commit instants of the transactions being measured, by member id. */
	static final Map<String, Long> commits = new ConcurrentHashMap<>();

	static final AtomicInteger delivered = new AtomicInteger();

	static long[] latencies = new long[0];

	static final AtomicInteger latencyCount = new AtomicInteger();

	private final String url;

	private final JdbcTemplate admin;

	private final List<String> rows = new ArrayList<>();

	private final Map<Integer, List<double[]>> plain = new LinkedHashMap<>();

	private Benchmarks(String url) {
		this.url = url;
		this.admin = new JdbcTemplate(new org.springframework.jdbc.datasource.DriverManagerDataSource(url));
	}

	public static void main(String[] args) throws Exception {
		EmbeddedPostgres embedded = null;
		String adminUrl = System.getenv("BENCH_DATABASE_URL");
		if (adminUrl == null || adminUrl.isBlank()) {
			adminUrl = "jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres";
			try (Connection probe = DriverManager.getConnection(adminUrl)) {
				// the local service answers
			}
			catch (SQLException ex) {
				embedded = EmbeddedPostgres.builder().start();
				adminUrl = embedded.getJdbcUrl("postgres", "postgres");
			}
		}
		String url = recreateDatabase(adminUrl, "events_bench");
		try {
			new Benchmarks(url).run(args.length > 0 ? Arrays.asList(args) : List.of());
		}
		finally {
			if (embedded != null) {
				embedded.close();
			}
		}
		System.exit(0);
	}

	private void run(List<String> only) throws Exception {
		String server = this.admin.queryForObject("SHOW server_version", String.class);
		System.out.printf(
				"# %d transactions per run, %d repetitions (medians), warm-up %d (%d before the first);"
						+ " PostgreSQL %s; %d cores, Java %s; %s%n",
				TRANSACTIONS, REPETITIONS, WARMUP, Math.max(WARMUP, FIRST_WARMUP), server,
				Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"),
				this.url.replaceAll("\\?.*", ""));
		this.rows.add(String.format("%-14s %7s %9s %14s %7s %7s %15s", "scenario", "threads", "tx_per_s",
				"ratio_vs_plain", "p50_ms", "p99_ms", "bytes_per_event"));
		List<Scenario> scenarios = Arrays.stream(Scenario.values())
			.filter((scenario) -> only.isEmpty() || only.contains(scenario.label()))
			.toList();
		for (int threads : THREADS) {
			// repetitions outermost: a slow spell of this shared machine hits every
			// scenario alike
			Map<Scenario, List<double[]>> results = new LinkedHashMap<>();
			for (int repetition = 1; repetition <= REPETITIONS; repetition++) {
				for (Scenario scenario : scenarios) {
					results.computeIfAbsent(scenario, (key) -> new ArrayList<>())
						.add(measure(scenario, threads, repetition));
				}
			}
			results.forEach((scenario, measured) -> report(scenario, threads, measured));
		}
		if (only.isEmpty() || only.contains("tx-pair")) {
			for (int threads : THREADS) {
				transactionalPair(threads);
			}
		}
		if (only.isEmpty() || only.contains("bulk")) {
			bulk(false, "bulk-in-app");
			bulk(true, "bulk-relay");
		}
		if (only.isEmpty() || only.contains("forward-kafka")) {
			forwardKafka();
		}
		if (only.isEmpty() || only.contains("forward-rabbit")) {
			forwardRabbit();
		}
		if (only.isEmpty() || only.contains("backfill")) {
			backfill();
		}
		if (only.isEmpty() || only.contains("backlog")) {
			backlog();
		}
		if (only.isEmpty() || only.contains("retention")) {
			retention();
		}
		if (only.isEmpty() || only.contains("instances")) {
			instances();
		}
		if (only.contains("large")) {
			large();
		}
		if (only.contains("soak")) {
			soak();
		}
		System.out.println();
		this.rows.forEach(System.out::println);
	}

	enum Scenario {

		PLAIN("events.enabled=false"), UNAUDITED("bench.subscriber=true"),
		CAPTURE("events.audit.tables=member", "events.relay.enabled=false"), SYNC("bench.subscriber=true"),
		SYNC_OBSERVED("bench.subscriber=true", "bench.meters=true"), SYNC_ORDERED("bench.subscriber=ordered"),
		SYNC_WRITE("bench.subscriber=writes"), SYNC_TX("bench.subscriber=transactional"),
		WEB("bench.subscriber=true", "bench.web=true"), ASYNC("bench.subscriber=true", "events.dispatch.mode=async"),
		MODULITH("events.enabled=false", "bench.modulith=true");

		final String[] properties;

		Scenario(String... properties) {
			this.properties = properties;
		}

		boolean measuresLatency() {
			return this == SYNC || this == SYNC_OBSERVED || this == SYNC_ORDERED || this == SYNC_WRITE
					|| this == SYNC_TX || this == WEB || this == ASYNC || this == MODULITH;
		}

		String label() {
			return name().toLowerCase(Locale.ROOT).replace('_', '-');
		}

	}

	/**
	 * One repetition of a scenario in an application of its own: a warm-up, then the
	 * measured run.
	 */
	private double[] measure(Scenario scenario, int threads, int repetition) throws Exception {
		resetSchema();
		try (ConfigurableApplicationContext context = start(scenario.properties)) {
			TransactionTemplate transactions = context.getBean(TransactionTemplate.class);
			JdbcTemplate jdbc = context.getBean(JdbcTemplate.class);
			ApplicationEventPublisher publisher = context;
			int warmup = (repetition == 1) ? Math.max(WARMUP, FIRST_WARMUP) : WARMUP;
			produce(scenario, table(scenario), threads, warmup, transactions, jdbc, publisher);
			awaitDone(scenario, warmup);
			truncate();
			long bytesBefore = eventBytes(scenario);
			long walBefore = walBytes();
			long[] cpuBefore = cpuNanos();
			latencies = new long[TRANSACTIONS];
			latencyCount.set(0);
			long start = System.nanoTime();
			produce(scenario, table(scenario), threads, TRANSACTIONS, transactions, jdbc, publisher);
			awaitDone(scenario, TRANSACTIONS);
			long elapsed = System.nanoTime() - start;
			long bytes = eventBytes(scenario) - bytesBefore;
			long[] measured = Arrays.copyOf(latencies, latencyCount.get());
			Arrays.sort(measured);
			double[] result = { TRANSACTIONS / (elapsed / 1e9), percentile(measured, 0.50), percentile(measured, 0.99),
					(double) bytes / TRANSACTIONS };
			long[] cpu = cpuNanos();
			long jvmMicros = (cpu[0] - cpuBefore[0]) / 1000 / TRANSACTIONS;
			String otherMicros = (cpu[1] < 0) ? "?"
					: Long.toString(((cpu[1] - cpuBefore[1]) - (cpu[0] - cpuBefore[0])) / 1000 / TRANSACTIONS);
			System.err.printf(
					"%s threads=%d repetition %d: %.0f tx/s, %d WAL bytes per transaction,"
							+ " CPU per transaction: %d us in this JVM, %s us in other processes (PostgreSQL)%n",
					scenario, threads, repetition, result[0], (walBytes() - walBefore) / TRANSACTIONS, jvmMicros,
					otherMicros);
			return result;
		}
	}

	private void report(Scenario scenario, int threads, List<double[]> results) {
		double txPerSecond = median(results, 0);
		if (scenario == Scenario.PLAIN) {
			this.plain.put(threads, results);
		}
		// the median of each repetition's ratio to the plain run next to it
		List<double[]> plainResults = this.plain.get(threads);
		String ratio = "-";
		if (plainResults != null) {
			List<double[]> ratios = new ArrayList<>();
			for (int i = 0; i < results.size(); i++) {
				ratios.add(new double[] { results.get(i)[0] / plainResults.get(i)[0] });
			}
			ratio = String.format(Locale.ROOT, "%.2f", median(ratios, 0));
		}
		this.rows
			.add(String.format(Locale.ROOT, "%-14s %7d %9.0f %14s %7s %7s %15s", scenario.label(), threads, txPerSecond,
					ratio, scenario.measuresLatency() ? String.format(Locale.ROOT, "%.2f", median(results, 1)) : "-",
					scenario.measuresLatency() ? String.format(Locale.ROOT, "%.2f", median(results, 2)) : "-",
					(scenario == Scenario.PLAIN) ? "-" : String.format(Locale.ROOT, "%.0f", median(results, 3))));
	}

	/**
	 * The table a scenario's transactions write: unaudited writes a table of member's
	 * shape that no one audits.
	 */
	private static String table(Scenario scenario) {
		return (scenario == Scenario.UNAUDITED) ? "visit" : "member";
	}

	private static void produce(Scenario scenario, String table, int threads, int transactions,
			TransactionTemplate template, JdbcTemplate jdbc, ApplicationEventPublisher publisher) throws Exception {
		delivered.set(0);
		ExecutorService pool = Executors.newFixedThreadPool(threads);
		List<Future<?>> producers = new ArrayList<>();
		AtomicInteger remaining = new AtomicInteger(transactions);
		for (int t = 0; t < threads; t++) {
			producers.add(pool.submit(() -> {
				while (remaining.getAndDecrement() > 0) {
					String id = UUID.randomUUID().toString();
					template.executeWithoutResult((status) -> {
						if (scenario.measuresLatency()) {
							TransactionSynchronizationManager.registerSynchronization(new CommitClock(id));
						}
						jdbc.update(
								"INSERT INTO " + table + " (id, name, email, created_at) VALUES (?::uuid, ?, ?, now())",
								id, "name " + id.substring(0, 8), id.substring(0, 8) + "@example.com");
						if (scenario == Scenario.MODULITH) {
							publisher.publishEvent(new MemberCreated(id));
						}
					});
				}
				return null;
			}));
		}
		for (Future<?> producer : producers) {
			producer.get();
		}
		pool.shutdown();
	}

	private void awaitDone(Scenario scenario, int transactions) {
		switch (scenario) {
			case SYNC, SYNC_OBSERVED, SYNC_ORDERED, SYNC_WRITE, SYNC_TX, WEB, ASYNC ->
				await(() -> delivered.get() >= transactions);
			case MODULITH -> {
				await(() -> delivered.get() >= transactions);
				await(() -> count("SELECT count(*) FROM event_publication WHERE completion_date IS NULL") == 0);
			}
			default -> {
			}
		}
	}

	/**
	 * sync-tx against sync-write in one application, interleaved: the same subscriber,
	 * plain on member and {@code @Transactional} on visit (a table of the same shape),
	 * {@link #PAIR_ROUNDS} rounds of {@link #PAIR_ROUND} transactions to each, the first
	 * half alternating between the two. Separate applications run minutes apart, which on
	 * this machine moves a scenario's throughput by more than the difference to measure.
	 */
	private void transactionalPair(int threads) throws Exception {
		resetSchema();
		try (ConfigurableApplicationContext context = start("bench.subscriber=pair",
				"bench.pair-control=" + PAIR_CONTROL)) {
			TransactionTemplate transactions = context.getBean(TransactionTemplate.class);
			JdbcTemplate jdbc = context.getBean(JdbcTemplate.class);
			for (int half = 0; half < 2 * Math.max(1, FIRST_WARMUP / PAIR_ROUND); half++) {
				pairHalf((half % 2 == 0) ? "member" : "visit", threads, transactions, jdbc, context);
			}
			truncate();
			// per subscriber (plain, transactional): nanoseconds, JVM CPU, machine CPU
			long[][] totals = new long[2][3];
			List<double[]> ratios = new ArrayList<>();
			for (int round = 0; round < PAIR_ROUNDS; round++) {
				long[][] measured = new long[2][];
				for (int half = 0; half < 2; half++) {
					int which = (round % 2 == 0) ? half : 1 - half;
					measured[which] = pairHalf((which == 0) ? "member" : "visit", threads, transactions, jdbc, context);
				}
				for (int which = 0; which < 2; which++) {
					for (int i = 0; i < 3; i++) {
						totals[which][i] += measured[which][i];
					}
				}
				ratios.add(new double[] { (double) measured[0][0] / measured[1][0] });
			}
			int count = PAIR_ROUNDS * PAIR_ROUND;
			double ratio = (double) totals[0][0] / totals[1][0];
			double[] sorted = ratios.stream().mapToDouble((r) -> r[0]).sorted().toArray();
			this.rows.add(String.format(Locale.ROOT, "%-14s %7d %9.0f %14.2f %7s %7s %15s",
					PAIR_CONTROL ? "tx-pair-aa" : "tx-pair", threads, count / (totals[1][0] / 1e9), ratio, "-", "-",
					"-"));
			this.rows.add(String.format(Locale.ROOT,
					(PAIR_CONTROL ? "# tx-pair (control: both plain)" : "# tx-pair")
							+ ", %d threads: sync-tx %.0f tx/s against sync-write %.0f, interleaved in %d rounds of"
							+ " %d (ratio_vs_plain: to sync-write, over all rounds; per round median %.2f, %.2f-%.2f);"
							+ " CPU per transaction, JVM / rest of the machine: %d / %d us against %d / %d us",
					threads, count / (totals[1][0] / 1e9), count / (totals[0][0] / 1e9), PAIR_ROUNDS, PAIR_ROUND,
					median(ratios, 0), sorted[0], sorted[sorted.length - 1], totals[1][1] / 1000 / count,
					(totals[1][2] - totals[1][1]) / 1000 / count, totals[0][1] / 1000 / count,
					(totals[0][2] - totals[0][1]) / 1000 / count));
		}
	}

	/**
	 * One half of a round of tx-pair: the transactions to one table, until its subscriber
	 * has every event.
	 * @return the elapsed nanoseconds, the JVM's CPU nanoseconds and the machine's
	 */
	private static long[] pairHalf(String table, int threads, TransactionTemplate transactions, JdbcTemplate jdbc,
			ApplicationEventPublisher publisher) throws Exception {
		long[] cpuBefore = cpuNanos();
		long start = System.nanoTime();
		produce(Scenario.SYNC_TX, table, threads, PAIR_ROUND, transactions, jdbc, publisher);
		await(() -> delivered.get() >= PAIR_ROUND);
		long elapsed = System.nanoTime() - start;
		long[] cpu = cpuNanos();
		return new long[] { elapsed, cpu[0] - cpuBefore[0], cpu[1] - cpuBefore[1] };
	}

	/** One UPDATE of {@value #BULK_ROWS} rows, in the application or from outside it. */
	private void bulk(boolean outside, String label) throws Exception {
		resetSchema();
		try (ConfigurableApplicationContext context = start("bench.subscriber=updates",
				"events.relay.poll-interval=50ms")) {
			JdbcTemplate jdbc = context.getBean(JdbcTemplate.class);
			List<Double> rates = new ArrayList<>();
			// repetition 0 warms up (compiles the dispatch path) and is not counted
			for (int repetition = 0; repetition <= REPETITIONS; repetition++) {
				truncate();
				existingMembers(jdbc, BULK_ROWS);
				vacuum();
				delivered.set(0);
				long start = System.nanoTime();
				if (outside) {
					try (Connection connection = DriverManager.getConnection(this.url);
							Statement statement = connection.createStatement()) {
						statement.execute("UPDATE member SET name = name || 'x'");
					}
				}
				else {
					context.getBean(TransactionTemplate.class)
						.executeWithoutResult((status) -> jdbc.update("UPDATE member SET name = name || 'x'"));
				}
				await(() -> delivered.get() >= BULK_ROWS);
				double rate = BULK_ROWS / ((System.nanoTime() - start) / 1e9);
				System.err.printf("bulk %s %s: %.0f events/s%n", outside ? "relay" : "in-app",
						(repetition == 0) ? "warm-up" : "repetition " + repetition, rate);
				if (repetition > 0) {
					rates.add(rate);
				}
			}
			Collections.sort(rates);
			this.rows.add(String.format(Locale.ROOT, "%-14s %7d %9.0f %14s %7s %7s %15s", label, 1,
					rates.get(rates.size() / 2), "-", "-", "-", "-"));
		}
	}

	/**
	 * One UPDATE of {@value #BULK_ROWS} rows from outside the application, forwarded to a
	 * Kafka topic of a broker in this JVM: events per second until the broker has
	 * acknowledged the last one.
	 */
	private void forwardKafka() throws Exception {
		EmbeddedKafkaKraftBroker broker = new EmbeddedKafkaKraftBroker(1, 4, "members");
		broker.afterPropertiesSet();
		// One client for every count. The broker's doWithAdmin makes a client per call:
		// a thread, a connection and a metadata request every 20 ms, on measured cores.
		try (Admin admin = Admin
			.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.getBrokersAsString()))) {
			List<TopicPartition> partitions = partitions(admin, "members");
			forward("forward-kafka", "kafka:members", (context) -> {
			}, (context) -> records(admin, partitions), "spring.kafka.bootstrap-servers=" + broker.getBrokersAsString(),
					"events.forward.kafka.routes[0].events[0]=member.updated",
					"events.forward.kafka.routes[0].topic=members");
		}
		finally {
			broker.destroy();
		}
	}

	/**
	 * The same forwarded to a RabbitMQ exchange of the machine's server (bound to one
	 * durable queue, purged before each repetition), where one answers.
	 */
	private void forwardRabbit() throws Exception {
		String host = System.getenv().getOrDefault("BENCH_RABBITMQ_HOST", "127.0.0.1");
		try (Socket socket = new Socket()) {
			socket.connect(new InetSocketAddress(host, 5672), 1000);
		}
		catch (IOException ex) {
			System.err.println("forward rabbit skipped: no RabbitMQ broker answers on " + host
					+ ":5672 (set BENCH_RABBITMQ_HOST)");
			return;
		}
		forward("forward-rabbit", "rabbit:bench.members", (context) -> {
			RabbitAdmin admin = context.getBean(RabbitAdmin.class);
			admin.initialize();
			admin.purgeQueue("bench.members");
		}, (context) -> {
			RabbitAdmin admin = context.getBean(RabbitAdmin.class);
			QueueInformation queue = admin.getQueueInfo("bench.members");
			return (queue != null) ? queue.getMessageCount() : 0;
		}, "spring.rabbitmq.host=" + host, "spring.rabbitmq.publisher-confirm-type=correlated",
				"spring.rabbitmq.publisher-returns=true", "bench.rabbit=true",
				"events.forward.rabbit.routes[0].events[0]=member.updated",
				"events.forward.rabbit.routes[0].exchange=bench.members");
	}

	/**
	 * One UPDATE of {@value #BULK_ROWS} rows from outside the application, forwarded by a
	 * route: events per second until the broker holds every event; once every row is
	 * dispatched and none waits for the route, each event is on the broker once.
	 * @param scenario the scenario's name
	 * @param route the route's subscriber name
	 * @param reset makes the broker ready for a repetition
	 * @param messages how many messages the broker holds
	 * @param properties the route and its broker
	 */
	private void forward(String scenario, String route, Consumer<ConfigurableApplicationContext> reset,
			ToLongFunction<ConfigurableApplicationContext> messages, String... properties) throws Exception {
		resetSchema();
		List<String> all = new ArrayList<>(List.of("events.relay.poll-interval=50ms"));
		all.addAll(Arrays.asList(properties));
		try (ConfigurableApplicationContext context = start(all.toArray(String[]::new))) {
			JdbcTemplate jdbc = context.getBean(JdbcTemplate.class);
			List<Double> rates = new ArrayList<>();
			for (int repetition = 1 - FORWARD_WARMUPS; repetition <= REPETITIONS; repetition++) {
				truncate();
				existingMembers(jdbc, BULK_ROWS);
				vacuum();
				reset.accept(context);
				long before = messages.applyAsLong(context);
				long start = System.nanoTime();
				try (Connection connection = DriverManager.getConnection(this.url);
						Statement statement = connection.createStatement()) {
					statement.execute("UPDATE member SET name = name || 'x'");
				}
				// Timed until the broker holds every event, as bulk-relay is until its
				// subscriber has every event; asked every 20 ms. Counting undispatched
				// rows instead took a quarter of the database's CPU while 100,000 of
				// them were pending, and slowed what it measured.
				await(() -> {
					pause(20);
					return messages.applyAsLong(context) - before >= BULK_ROWS;
				});
				double rate = BULK_ROWS / ((System.nanoTime() - start) / 1e9);
				// then every row is dispatched and none waits for the route, and the
				// broker holds each event once
				await(() -> {
					pause(20);
					return count("SELECT count(*) FROM keel_audit WHERE event_processed_at IS NULL") == 0
							&& count("SELECT count(*) FROM keel_audit_delivery WHERE subscriber = '" + route
									+ "' AND status = 'pending'") == 0;
				});
				long forwarded = messages.applyAsLong(context) - before;
				if (forwarded != BULK_ROWS) {
					throw new IllegalStateException(forwarded + " of " + BULK_ROWS + " events forwarded");
				}
				System.err.printf("%s %s: %.0f events/s%n", scenario,
						(repetition <= 0) ? "warm-up" : "repetition " + repetition, rate);
				if (repetition > 0) {
					rates.add(rate);
				}
			}
			Collections.sort(rates);
			this.rows.add(String.format(Locale.ROOT, "%-14s %7d %9.0f %14s %7s %7s %15s", scenario, 1,
					rates.get(rates.size() / 2), "-", "-", "-", "-"));
		}
	}

	/**
	 * A backfill of {@value #BACKFILL_ROWS} existing rows for one subscriber: how fast it
	 * queues them, how fast they are delivered (from the call), and the heap it takes.
	 */
	private void backfill() throws Exception {
		List<double[]> results = new ArrayList<>();
		long peakHeap = 0;
		for (int repetition = 0; repetition < REPETITIONS; repetition++) {
			resetSchema();
			try (ConfigurableApplicationContext context = start("bench.subscriber=snapshot",
					"events.relay.poll-interval=50ms")) {
				JdbcTemplate jdbc = context.getBean(JdbcTemplate.class);
				// rows that were there before the subscriber: no events
				existingMembers(jdbc, BACKFILL_ROWS);
				vacuum();
				System.gc();
				long heapBefore = usedHeap();
				AtomicLong peak = new AtomicLong(heapBefore);
				delivered.set(0);
				Thread sampler = new Thread(() -> {
					while (!Thread.currentThread().isInterrupted()) {
						peak.accumulateAndGet(usedHeap(), Math::max);
						try {
							Thread.sleep(20);
						}
						catch (InterruptedException ex) {
							return;
						}
					}
				});
				sampler.setDaemon(true);
				sampler.start();
				long start = System.nanoTime();
				long queued = context.getBean(EventDeliveries.class).backfill("snapshot", "member");
				double queuedSeconds = (System.nanoTime() - start) / 1e9;
				try {
					await(() -> delivered.get() >= queued);
				}
				finally {
					sampler.interrupt();
					sampler.join();
				}
				double deliveredSeconds = (System.nanoTime() - start) / 1e9;
				peakHeap = Math.max(peakHeap, peak.get() - heapBefore);
				results.add(new double[] { queued / queuedSeconds, queued / deliveredSeconds });
				System.err.printf("backfill repetition %d: %d rows queued in %.2f s, delivered in %.2f s%n",
						repetition + 1, queued, queuedSeconds, deliveredSeconds);
			}
		}
		this.rows.add(String.format(Locale.ROOT, "%-14s %7d %9.0f %14s %7s %7s %15s", "backfill", 1, median(results, 1),
				"-", "-", "-", "-"));
		this.rows.add(String.format(Locale.ROOT,
				"# backfill: %d rows, queued at %.0f rows/s, delivered at %.0f rows/s (medians, both from the call); "
						+ "peak heap growth %d MB",
				BACKFILL_ROWS, median(results, 0), median(results, 1), peakHeap / (1024 * 1024)));
	}

	private void backlog() throws Exception {
		resetSchema();
		List<Double> seconds = new ArrayList<>();
		long peakHeap = 0;
		for (int repetition = 0; repetition < REPETITIONS; repetition++) {
			// install the schema and triggers once, then leave rows behind with no
			// application running
			try (ConfigurableApplicationContext installer = start("bench.subscriber=true",
					"events.relay.enabled=false")) {
				truncate();
			}
			this.admin.update("INSERT INTO member SELECT gen_random_uuid(), 'n' || i, 'e' || i, now() "
					+ "FROM generate_series(1, ?) i", BULK_ROWS);
			vacuum();
			System.gc();
			long heapBefore = usedHeap();
			AtomicLong peak = new AtomicLong(heapBefore);
			delivered.set(0);
			Thread sampler = new Thread(() -> {
				while (!Thread.currentThread().isInterrupted()) {
					peak.accumulateAndGet(usedHeap(), Math::max);
					try {
						Thread.sleep(20);
					}
					catch (InterruptedException ex) {
						return;
					}
				}
			});
			sampler.start();
			long start = System.nanoTime(); // the application's startup counts
			try (ConfigurableApplicationContext context = start("bench.subscriber=true",
					"events.relay.poll-interval=50ms")) {
				await(() -> delivered.get() >= BULK_ROWS);
				seconds.add((System.nanoTime() - start) / 1e9);
			}
			sampler.interrupt();
			sampler.join();
			peakHeap = Math.max(peakHeap, peak.get() - heapBefore);
			System.err.printf("backlog repetition %d: %.2f s%n", repetition + 1, seconds.get(seconds.size() - 1));
		}
		Collections.sort(seconds);
		double median = seconds.get(seconds.size() / 2);
		this.rows.add(String.format(Locale.ROOT, "%-14s %7d %9.0f %14s %7s %7s %15s", "backlog", 1, BULK_ROWS / median,
				"-", "-", "-", "-"));
		this.rows.add(String.format(Locale.ROOT,
				"# backlog: %d rows drained in %.2f s (median); peak heap growth " + "while draining %d MB", BULK_ROWS,
				median, peakHeap / (1024 * 1024)));
	}

	/**
	 * Outside writes, one at a time, while the retention keeps everything and while it
	 * deletes {@link #RETENTION_ROWS} rows: the latency from the write to its delivery.
	 */
	private void retention() throws Exception {
		resetSchema();
		try (ConfigurableApplicationContext installer = start("bench.subscriber=true", "events.relay.enabled=false")) {
			truncate();
		}
		// without the audit row of that truncation: the rows to delete come first
		this.admin.execute("TRUNCATE keel_audit RESTART IDENTITY");
		this.admin.update("""
				INSERT INTO keel_audit (table_name, op, data, created_at, event_processed_at)
				SELECT 'member', 'created', jsonb_build_object('id', gen_random_uuid(), 'name', 'n' || i,
					'email', 'e' || i || '@example.com'), now() - interval '2 days', now()
				FROM generate_series(1, ?) i
				""", RETENTION_ROWS);
		long lastOld = count("SELECT max(id) FROM keel_audit");
		vacuum();
		double[] kept = outsideWrites("events.retention=0", 0);
		double[] deleting = outsideWrites("events.retention=1d", lastOld);
		this.rows.add(String.format(Locale.ROOT, "%-14s %7d %9s %14s %7.2f %7.2f %15s", "retention-off", 1, "-", "-",
				kept[0], kept[1], "-"));
		this.rows.add(String.format(Locale.ROOT, "%-14s %7d %9.0f %14s %7.2f %7.2f %15s", "retention", 1,
				RETENTION_ROWS / deleting[2], "-", deleting[0], deleting[1], "-"));
		this.rows.add(String.format(Locale.ROOT,
				"# retention: %d rows deleted in %.1f s (%d rows/s) while outside writes were delivered in "
						+ "p50 %.2f / p99 %.2f ms, against p50 %.2f / p99 %.2f ms with nothing to delete",
				RETENTION_ROWS, deleting[2], (long) (RETENTION_ROWS / deleting[2]), deleting[0], deleting[1], kept[0],
				kept[1]));
	}

	/**
	 * large (only when asked: it writes gigabytes): {@code sync} at 1 and 4 threads and
	 * {@code bulk-relay} on an empty audit table, then again on one that holds
	 * {@value #LARGE_ROWS} processed rows and {@value #LARGE_PENDING} pending for another
	 * running instance, in one run.
	 */
	private void large() throws Exception {
		String emptyLabel = "empty";
		String largeLabel = (LARGE_ROWS / 1_000_000) + "M+" + (LARGE_PENDING / 1_000) + "k";
		Map<String, List<double[]>> sync = new LinkedHashMap<>();
		for (boolean full : new boolean[] { false, true }) {
			this.keepAudit = false;
			resetSchema();
			if (full) {
				try (ConfigurableApplicationContext installer = start("bench.subscriber=true",
						"events.relay.enabled=false")) {
					truncate();
				}
				long start = System.nanoTime();
				this.admin.update("""
						INSERT INTO keel_audit (table_name, op, data, created_at, event_processed_at)
						SELECT 'member', 'created', jsonb_build_object('id', gen_random_uuid(), 'name', 'n' || i,
							'email', 'e' || i || '@example.com'), now() - interval '1 hour', now()
						FROM generate_series(1, ?) i
						""", LARGE_ROWS);
				// and rows pending for another instance that runs (its fresh row keeps
				// them its own): every relay round looks past them
				this.admin.update("INSERT INTO keel_audit_instance (id, last_seen_at) "
						+ "VALUES ('\\x0102030405060708'::bytea, now() + interval '1 day')");
				this.admin.update("""
						INSERT INTO keel_audit (table_name, op, data, created_at, scope_id)
						SELECT 'member', 'created', jsonb_build_object('id', gen_random_uuid(), 'name', 'p' || i,
							'email', 'p' || i || '@example.com'), now() - interval '1 hour',
							('01020304-0506-0708-' || substr(md5(i::text), 1, 4) || '-'
								|| substr(md5(i::text), 5, 12))::uuid
						FROM generate_series(1, ?) i
						""", LARGE_PENDING);
				vacuum();
				System.err.printf("large: %d processed and %d pending rows written in %.0f s, the audit table %s%n",
						LARGE_ROWS, LARGE_PENDING, (System.nanoTime() - start) / 1e9, this.admin.queryForObject(
								"SELECT pg_size_pretty(pg_total_relation_size('keel_audit'))", String.class));
				this.keepAudit = true;
			}
			String label = full ? largeLabel : emptyLabel;
			for (int threads : THREADS) {
				List<double[]> results = new ArrayList<>();
				for (int repetition = 1; repetition <= REPETITIONS; repetition++) {
					results.add(measure(Scenario.SYNC, threads, repetition));
				}
				sync.put(label + " " + threads, results);
			}
			bulk(true, "bulk-" + label);
		}
		this.keepAudit = false;
		sync.forEach((label,
				results) -> this.rows.add(String.format(Locale.ROOT, "%-14s %7s %9.0f %14s %7.2f %7.2f %15s",
						"sync-" + label.substring(0, label.indexOf(' ')), label.substring(label.indexOf(' ') + 1),
						median(results, 0), "-", median(results, 1), median(results, 2), "-")));
	}

	/**
	 * instances: a backlog of {@value #INSTANCE_ROWS} rows, written from outside in one
	 * statement, drained by 1, 2 and 4 instances of the application side by side (each a
	 * context of its own, with its own pool), the counts interleaved within each
	 * repetition: events per second from the write's commit to the last delivery, and the
	 * CPU per event in this JVM and in the rest of the machine (PostgreSQL) over that
	 * time.
	 */
	private void instances() throws Exception {
		Map<Integer, List<double[]>> results = new LinkedHashMap<>();
		// repetition 0 warms up (compiles the relay's path) and is not counted
		for (int repetition = 0; repetition <= REPETITIONS; repetition++) {
			for (int instances : INSTANCES) {
				resetSchema();
				List<ConfigurableApplicationContext> contexts = new ArrayList<>();
				try {
					for (int i = 0; i < instances; i++) {
						contexts.add(start("bench.subscriber=true", "events.relay.poll-interval=50ms"));
					}
					delivered.set(0);
					this.admin.update("INSERT INTO member SELECT gen_random_uuid(), 'n' || i, 'e' || i, now() "
							+ "FROM generate_series(1, ?) i", INSTANCE_ROWS);
					long[] cpuBefore = cpuNanos();
					long start = System.nanoTime();
					await(() -> delivered.get() >= INSTANCE_ROWS);
					double rate = INSTANCE_ROWS / ((System.nanoTime() - start) / 1e9);
					long[] cpu = cpuNanos();
					double jvmMicros = (cpu[0] - cpuBefore[0]) / 1000.0 / INSTANCE_ROWS;
					double otherMicros = (cpu[1] < 0) ? Double.NaN
							: ((cpu[1] - cpuBefore[1]) - (cpu[0] - cpuBefore[0])) / 1000.0 / INSTANCE_ROWS;
					System.err.printf(Locale.ROOT,
							"instances %d %s: %.0f events/s, CPU per event %.1f us in this JVM, "
									+ "%.1f us in other processes (PostgreSQL)%n",
							instances, (repetition == 0) ? "warm-up" : "repetition " + repetition, rate, jvmMicros,
							otherMicros);
					if (repetition > 0) {
						results.computeIfAbsent(instances, (key) -> new ArrayList<>())
							.add(new double[] { rate, jvmMicros, otherMicros });
					}
				}
				finally {
					contexts.forEach(ConfigurableApplicationContext::close);
				}
			}
		}
		double one = median(results.get(1), 0);
		results.forEach((instances,
				measured) -> this.rows.add(String.format(Locale.ROOT, "%-14s %7d %9.0f %14s %7s %7s %15s",
						"instances-" + instances, 1, median(measured, 0),
						String.format(Locale.ROOT, "%.2f", median(measured, 0) / one), "-", "-", "-")));
		this.rows.add(String.format(Locale.ROOT,
				"# instances: %d rows drained by 1, 2 and 4 instances (ratio_vs_plain: to one instance); CPU per "
						+ "event, JVM / PostgreSQL: %s",
				INSTANCE_ROWS,
				String.join(", ",
						results.entrySet()
							.stream()
							.map((entry) -> String.format(Locale.ROOT, "%d: %.0f / %.0f us", entry.getKey(),
									median(entry.getValue(), 1), median(entry.getValue(), 2)))
							.toList())));
	}

	/**
	 * soak (only when named: it runs for an hour): see {@link Soak}. Its rate is 70% of
	 * what {@code sync} reaches at 4 threads, measured first in the same run.
	 */
	private void soak() throws Exception {
		double maximum = measure(Scenario.SYNC, 4, 1)[0];
		resetSchema();
		try (ConfigurableApplicationContext context = start("bench.subscriber=soak",
				"events.retention=" + Soak.RETENTION)) {
			this.rows
				.add(String.format(Locale.ROOT, "# soak: sync's maximum at 4 threads in this run: %.0f tx/s", maximum));
			this.rows.addAll(new Soak(this.admin).run(context, Soak.LOAD * maximum));
		}
	}

	/**
	 * Write one member at a time from outside the application and wait for its delivery:
	 * 300 of them, or, with rows to delete, until the retention has deleted them.
	 * @return p50 and p99 in ms, and the seconds the deletion took
	 */
	private double[] outsideWrites(String retention, long lastOld) throws Exception {
		try (ConfigurableApplicationContext context = start("bench.subscriber=true", retention)) {
			latencies = new long[100_000];
			latencyCount.set(0);
			delivered.set(0);
			long start = System.nanoTime();
			double deleted = 0;
			int writes = 0;
			while ((lastOld == 0) ? writes < 300 : deleted == 0) {
				String id = UUID.randomUUID().toString();
				commits.put(id, System.nanoTime());
				this.admin.update("INSERT INTO member VALUES (?::uuid, 'o', 'o', now())", id);
				int expected = ++writes;
				await(() -> delivered.get() >= expected);
				Thread.sleep(20);
				if (lastOld > 0 && writes % 20 == 0 && count("SELECT min(id) FROM keel_audit") > lastOld) {
					deleted = (System.nanoTime() - start) / 1e9;
				}
			}
			long[] measured = Arrays.copyOf(latencies, Math.min(latencyCount.get(), latencies.length));
			Arrays.sort(measured);
			System.err.printf("%s: %d outside writes%n", retention, measured.length);
			return new double[] { percentile(measured, 0.50), percentile(measured, 0.99), deleted };
		}
	}

	private ConfigurableApplicationContext start(String... properties) {
		List<String> all = new ArrayList<>(
				List.of("spring.datasource.url=" + this.url, "spring.datasource.hikari.maximum-pool-size=16",
						"spring.main.banner-mode=off", "spring.modulith.events.jdbc.schema-initialization.enabled=true",
						"spring.modulith.events.republish-outstanding-events-on-restart=false"));
		all.addAll(Arrays.asList(properties));
		if (!all.contains("bench.modulith=true")) {
			all.add("spring.autoconfigure.exclude=" + String.join(",", modulithAutoConfigurations()));
		}
		return new SpringApplicationBuilder(App.class).properties(all.toArray(String[]::new)).run();
	}

	private static List<String> modulithAutoConfigurations() {
		List<String> names = new ArrayList<>();
		try {
			Enumeration<URL> imports = Benchmarks.class.getClassLoader()
				.getResources("META-INF/spring/org.springframework.boot.autoconfigure.AutoConfiguration.imports");
			while (imports.hasMoreElements()) {
				try (InputStream in = imports.nextElement().openStream()) {
					for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
						if (line.trim().startsWith("org.springframework.modulith")) {
							names.add(line.trim());
						}
					}
				}
			}
		}
		catch (IOException ex) {
			throw new IllegalStateException(ex);
		}
		return names;
	}

	private void resetSchema() {
		if (this.keepAudit) {
			return;
		}
		this.admin.execute("DROP SCHEMA public CASCADE");
		this.admin.execute("CREATE SCHEMA public");
		this.admin.execute(MEMBER);
		this.admin.execute("CREATE TABLE visit (LIKE member INCLUDING ALL)");
		this.admin.execute("CREATE TABLE applied (member_id text NOT NULL)");
	}

	private void truncate() {
		List<String> tables = this.admin.queryForList("SELECT quote_ident(tablename) FROM pg_tables "
				+ "WHERE schemaname = 'public' AND tablename IN ('member', 'visit', 'keel_audit', 'keel_audit_delivery', "
				+ "'event_publication', 'applied') AND NOT (? AND tablename = 'keel_audit')", String.class,
				this.keepAudit);
		// the running application's relay may hold one of the tables: a deadlock then
		// ends one of the two, and the TRUNCATE is tried again
		for (int attempt = 1;; attempt++) {
			try {
				this.admin.execute("TRUNCATE " + String.join(", ", tables));
				break;
			}
			catch (org.springframework.dao.PessimisticLockingFailureException ex) {
				if (attempt == 3) {
					throw ex;
				}
			}
		}
		vacuum();
	}

	private void vacuum() {
		this.admin.execute("VACUUM ANALYZE");
	}

	private long eventBytes(Scenario scenario) {
		String table = (scenario == Scenario.MODULITH) ? "event_publication" : "keel_audit";
		Long bytes = this.admin.queryForObject("SELECT coalesce(pg_total_relation_size(to_regclass(?)), 0)", Long.class,
				table);
		return (bytes != null) ? bytes : 0;
	}

	/**
	 * CPU time used so far by this JVM and by the whole machine (user and system, steal
	 * excluded): the part of the cost that a shared machine's noise leaves alone.
	 */
	private static long[] cpuNanos() {
		long jvm = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
			.getProcessCpuTime();
		long machine = -1;
		try {
			// cpu user nice system idle iowait irq softirq steal ..., in 1/100 s
			String[] fields = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
			long ticks = 0;
			for (int i : new int[] { 1, 2, 3, 6, 7 }) {
				ticks += Long.parseLong(fields[i]);
			}
			machine = ticks * 10_000_000L;
		}
		catch (IOException | RuntimeException ex) {
			// not Linux: the machine's share is reported as unknown
		}
		return new long[] { jvm, machine };
	}

	private long walBytes() {
		return count("SELECT pg_current_wal_lsn() - '0/0'");
	}

	private long count(String sql) {
		Long count = this.admin.queryForObject(sql, Long.class);
		return (count != null) ? count : 0;
	}

	/** A topic's partitions. */
	private static List<TopicPartition> partitions(Admin admin, String topic) throws Exception {
		return admin.describeTopics(List.of(topic))
			.allTopicNames()
			.get()
			.get(topic)
			.partitions()
			.stream()
			.map((partition) -> new TopicPartition(topic, partition.partition()))
			.toList();
	}

	/**
	 * The records partitions hold: the sum of their end offsets, in one request (the
	 * harness asks every 20 ms, on the cores it measures).
	 */
	private static long records(Admin admin, List<TopicPartition> partitions) {
		Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
		partitions.forEach((partition) -> latest.put(partition, OffsetSpec.latest()));
		try {
			return admin.listOffsets(latest)
				.all()
				.get()
				.values()
				.stream()
				.mapToLong(ListOffsetsResultInfo::offset)
				.sum();
		}
		catch (Exception ex) {
			throw new IllegalStateException(ex);
		}
	}

	/** Rows that were there before any subscriber: no event is captured for them. */
	private static void existingMembers(JdbcTemplate jdbc, int rows) {
		jdbc.execute("ALTER TABLE member DISABLE TRIGGER USER");
		jdbc.update(
				"INSERT INTO member SELECT gen_random_uuid(), 'n' || i, 'e' || i, now() FROM generate_series(1, ?) i",
				rows);
		jdbc.execute("ALTER TABLE member ENABLE TRIGGER USER");
	}

	private static void pause(long millis) {
		try {
			Thread.sleep(millis);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

	private static void await(BooleanSupplier done) {
		long deadline = System.nanoTime() + 600_000_000_000L;
		while (!done.getAsBoolean()) {
			if (System.nanoTime() > deadline) {
				throw new IllegalStateException("Not done after 10 minutes");
			}
			Thread.onSpinWait();
			try {
				Thread.sleep(1);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				throw new IllegalStateException(ex);
			}
		}
	}

	private static double percentile(long[] sortedNanos, double quantile) {
		if (sortedNanos.length == 0) {
			return 0;
		}
		return sortedNanos[(int) Math.min(sortedNanos.length - 1, Math.floor(quantile * sortedNanos.length))] / 1e6;
	}

	private static double median(List<double[]> results, int column) {
		double[] values = results.stream().mapToDouble((result) -> result[column]).sorted().toArray();
		return values[values.length / 2];
	}

	private static long usedHeap() {
		return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
	}

	private static String recreateDatabase(String adminUrl, String name) throws SQLException {
		try (Connection connection = DriverManager.getConnection(adminUrl);
				Statement statement = connection.createStatement()) {
			statement.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
			statement.execute("CREATE DATABASE " + name);
		}
		int query = adminUrl.indexOf('?');
		String base = (query < 0) ? adminUrl : adminUrl.substring(0, query);
		return base.substring(0, base.lastIndexOf('/') + 1) + name + ((query < 0) ? "" : adminUrl.substring(query));
	}

	static void received(String memberId) {
		Long committed = commits.remove(memberId);
		if (committed != null) {
			int slot = latencyCount.getAndIncrement();
			if (slot < latencies.length) {
				latencies[slot] = System.nanoTime() - committed;
			}
		}
		delivered.incrementAndGet();
	}

	/**
	 * Notes the instant the transaction committed, before any other after-commit work.
	 */
	record CommitClock(String memberId) implements TransactionSynchronization {

		@Override
		public void afterCommit() {
			commits.put(this.memberId, System.nanoTime());
		}

		@Override
		public int getOrder() {
			return Ordered.HIGHEST_PRECEDENCE;
		}

	}

	/** Spring Modulith's event, published in the business transaction. */
	public record MemberCreated(String id) {
	}

	/** The starter's subscriber: does nothing but count. */
	static class Subscriber {

		@EventSubscriber("member.created")
		void created(Event event) {
			received(event.target().id());
		}

	}

	/** The starter's subscriber, ordered: does nothing but count. */
	static class OrderedSubscriber {

		@EventSubscriber(value = "member.created", ordered = true)
		void created(Event event) {
			received(event.target().id());
		}

	}

	/**
	 * What the writing subscribers do: insert one row per event into a table that no one
	 * audits.
	 */
	abstract static class Applier {

		private final JdbcTemplate jdbc;

		Applier(JdbcTemplate jdbc) {
			this.jdbc = jdbc;
		}

		void apply(Event event) {
			this.jdbc.update("INSERT INTO applied VALUES (?)", event.target().id());
			received(event.target().id());
		}

	}

	/** The starter's subscriber, writing one row per event (sync-write). */
	static class WritingSubscriber extends Applier {

		WritingSubscriber(JdbcTemplate jdbc) {
			super(jdbc);
		}

		@EventSubscriber("member.created")
		public void created(Event event) {
			apply(event);
		}

	}

	/**
	 * The same, {@code @Transactional} (sync-tx): its row and the record of its delivery
	 * commit together.
	 */
	static class TransactionalSubscriber extends Applier {

		TransactionalSubscriber(JdbcTemplate jdbc) {
			super(jdbc);
		}

		@EventSubscriber("member.created")
		@Transactional
		public void created(Event event) {
			apply(event);
		}

	}

	/**
	 * tx-pair's transactional subscriber, of visit: sync-tx's, beside sync-write's of
	 * member.
	 */
	static class VisitTransactionalSubscriber extends Applier {

		VisitTransactionalSubscriber(JdbcTemplate jdbc) {
			super(jdbc);
		}

		@EventSubscriber(value = "visit.created", name = "visited")
		@Transactional
		public void created(Event event) {
			apply(event);
		}

	}

	/** tx-pair's control: the subscriber of visit, plain. */
	static class VisitWritingSubscriber extends Applier {

		VisitWritingSubscriber(JdbcTemplate jdbc) {
			super(jdbc);
		}

		@EventSubscriber(value = "visit.created", name = "visited")
		public void created(Event event) {
			apply(event);
		}

	}

	/** Counts snapshots, for the backfill scenario. */
	static class SnapshotSubscriber {

		@EventSubscriber(value = "member.snapshot", name = "snapshot")
		void snapshot(Event event) {
			delivered.incrementAndGet();
		}

	}

	/** Counts updates, for the bulk scenario. */
	static class UpdateSubscriber {

		@EventSubscriber("member.updated")
		void updated(Event event) {
			delivered.incrementAndGet();
		}

	}

	/** Spring Modulith's listener: does nothing but count. */
	static class ModulithListener {

		@ApplicationModuleListener
		void on(MemberCreated event) {
			received(event.id());
		}

	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class App {

		@Bean
		@org.springframework.boot.autoconfigure.condition.ConditionalOnProperty(name = "bench.subscriber",
				havingValue = "true")
		Subscriber subscriber() {
			return new Subscriber();
		}

		@Bean
		@org.springframework.boot.autoconfigure.condition.ConditionalOnProperty(name = "bench.subscriber",
				havingValue = "ordered")
		OrderedSubscriber orderedSubscriber() {
			return new OrderedSubscriber();
		}

		@Bean
		@org.springframework.boot.autoconfigure.condition.ConditionalOnProperty(name = "bench.subscriber",
				havingValue = "writes")
		WritingSubscriber writingSubscriber(JdbcTemplate jdbc) {
			return new WritingSubscriber(jdbc);
		}

		@Bean
		@org.springframework.boot.autoconfigure.condition.ConditionalOnProperty(name = "bench.subscriber",
				havingValue = "transactional")
		TransactionalSubscriber transactionalSubscriber(JdbcTemplate jdbc) {
			return new TransactionalSubscriber(jdbc);
		}

		@Bean
		@org.springframework.boot.autoconfigure.condition.ConditionalOnProperty(name = "bench.subscriber",
				havingValue = "pair")
		WritingSubscriber pairedWritingSubscriber(JdbcTemplate jdbc) {
			return new WritingSubscriber(jdbc);
		}

		@Bean
		@org.springframework.boot.autoconfigure.condition.ConditionalOnExpression("'${bench.subscriber:}' == 'pair'"
				+ " && !${bench.pair-control:false}")
		VisitTransactionalSubscriber pairedTransactionalSubscriber(JdbcTemplate jdbc) {
			return new VisitTransactionalSubscriber(jdbc);
		}

		@Bean
		@org.springframework.boot.autoconfigure.condition.ConditionalOnExpression("'${bench.subscriber:}' == 'pair'"
				+ " && ${bench.pair-control:false}")
		VisitWritingSubscriber pairedControlSubscriber(JdbcTemplate jdbc) {
			return new VisitWritingSubscriber(jdbc);
		}

		@Bean
		@org.springframework.boot.autoconfigure.condition.ConditionalOnProperty(name = "bench.subscriber",
				havingValue = "snapshot")
		SnapshotSubscriber snapshotSubscriber() {
			return new SnapshotSubscriber();
		}

		@Bean
		@org.springframework.boot.autoconfigure.condition.ConditionalOnProperty(name = "bench.subscriber",
				havingValue = "soak")
		Soak.Subscribers soakSubscribers() {
			return new Soak.Subscribers();
		}

		@Bean
		@org.springframework.boot.autoconfigure.condition.ConditionalOnProperty(name = "bench.subscriber",
				havingValue = "updates")
		UpdateSubscriber updateSubscriber() {
			return new UpdateSubscriber();
		}

		/**
		 * web: every transaction has an identity and a trace of its own, as a request of
		 * a secured, traced web application has (the user of the request's thread, and a
		 * new trace per request).
		 */
		@Bean
		@org.springframework.boot.autoconfigure.condition.ConditionalOnProperty(name = "bench.web",
				havingValue = "true")
		IdentityResolver webIdentity() {
			return () -> "user-" + Thread.currentThread().getId();
		}

		@Bean
		@org.springframework.boot.autoconfigure.condition.ConditionalOnProperty(name = "bench.web",
				havingValue = "true")
		TraceSource webTrace() {
			return Trace::random;
		}

		@Bean
		@org.springframework.boot.autoconfigure.condition.ConditionalOnProperty(name = "bench.meters",
				havingValue = "true")
		SimpleMeterRegistry meterRegistry() {
			return new SimpleMeterRegistry();
		}

		@Bean
		@org.springframework.boot.autoconfigure.condition.ConditionalOnProperty(name = "bench.modulith",
				havingValue = "true")
		ModulithListener modulithListener() {
			return new ModulithListener();
		}

		/**
		 * forward-rabbit: the route's exchange, bound to one queue that takes every
		 * event.
		 */
		@Bean
		@org.springframework.boot.autoconfigure.condition.ConditionalOnProperty(name = "bench.rabbit",
				havingValue = "true")
		Declarables benchMembers() {
			TopicExchange exchange = new TopicExchange("bench.members");
			Queue queue = new Queue("bench.members");
			return new Declarables(exchange, queue, BindingBuilder.bind(queue).to(exchange).with("#"));
		}

	}

}
