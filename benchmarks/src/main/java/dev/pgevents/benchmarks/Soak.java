package dev.pgevents.benchmarks;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import org.slf4j.LoggerFactory;

import dev.pgevents.Event;
import dev.pgevents.EventSubscriber;

import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * soak (only when named: it runs for an hour, {@code -Dbench.soak-minutes}): {@code sync}
 * at 70% of its maximum at 4 threads (measured first, in the same run), with four
 * subscribers, one of which fails 1% of events once (they succeed on their retry), and a
 * retention of 5 minutes. Every minute: throughput, p50 and p99 from commit to the
 * subscriber, the relay's lag (undispatched rows and the oldest one's age, pending ledger
 * entries), the heap after a full collection, the audit and ledger tables' size and dead
 * tuples, and the warnings and errors logged so far.
 */
final class Soak {

	static final int MINUTES = Integer.getInteger("bench.soak-minutes", 60);

	static final double LOAD = 0.7;

	static final String RETENTION = "5m";

	private static final int PRODUCERS = 4;

	/** The commit-to-subscriber latencies of the current minute. */
	static final AtomicReference<Latencies> window = new AtomicReference<>(new Latencies());

	private final JdbcTemplate admin;

	private final List<String> rows = new ArrayList<>();

	Soak(JdbcTemplate admin) {
		this.admin = admin;
	}

	/**
	 * Run the soak in {@code context} (started with {@code bench.subscriber=soak}) at
	 * {@code rate} transactions per second.
	 * @return the report, a line per minute
	 */
	List<String> run(ConfigurableApplicationContext context, double rate) throws Exception {
		LogCounter log = LogCounter.attach();
		TransactionTemplate transactions = context.getBean(TransactionTemplate.class);
		JdbcTemplate jdbc = context.getBean(JdbcTemplate.class);
		// Without autovacuum (some CI servers turn it off) nothing reclaims the dead
		// rows of the marks and the retention: the tables grow whatever it deletes.
		this.rows.add(String.format(Locale.ROOT,
				"# soak: %d minutes at %.0f tx/s (%.0f%% of sync's maximum at 4 threads), 4 subscribers (one fails "
						+ "1%% of events once), events.retention=%s, autovacuum %s",
				MINUTES, rate, LOAD * 100, RETENTION, this.admin.queryForObject("SHOW autovacuum", String.class)));
		this.rows.add(String.format(Locale.ROOT, "%6s %8s %7s %7s %8s %8s %8s %8s %9s %9s %9s %9s %6s %6s", "minute",
				"tx_per_s", "p50_ms", "p99_ms", "lag_rows", "lag_s", "ledger", "heap_mb", "audit_mb", "audit_dead",
				"ledger_mb", "ledger_dead", "warns", "errors"));
		this.rows.forEach(System.out::println);
		AtomicInteger committed = new AtomicInteger();
		AtomicLong ticket = new AtomicLong();
		long start = System.nanoTime();
		long end = start + MINUTES * 60_000_000_000L;
		ExecutorService producers = Executors.newFixedThreadPool(PRODUCERS);
		List<Future<?>> running = new ArrayList<>();
		for (int p = 0; p < PRODUCERS; p++) {
			running.add(producers.submit(() -> {
				while (true) {
					// paced: transaction n is due n / rate seconds after the start
					long due = start + (long) (ticket.getAndIncrement() * 1e9 / rate);
					if (due >= end) {
						return null;
					}
					long wait = due - System.nanoTime();
					if (wait > 0) {
						LockSupport.parkNanos(wait);
					}
					String id = UUID.randomUUID().toString();
					transactions.executeWithoutResult((status) -> {
						TransactionSynchronizationManager.registerSynchronization(new Benchmarks.CommitClock(id));
						jdbc.update("INSERT INTO member (id, name, email, created_at) VALUES (?::uuid, ?, ?, now())",
								id, "name " + id.substring(0, 8), id.substring(0, 8) + "@example.com");
					});
					committed.incrementAndGet();
				}
			}));
		}
		for (int minute = 1; minute <= MINUTES; minute++) {
			long due = start + minute * 60_000_000_000L;
			while (System.nanoTime() < due) {
				LockSupport.parkNanos(due - System.nanoTime());
			}
			Latencies latencies = window.getAndSet(new Latencies());
			String row = report(minute, committed.getAndSet(0) / 60.0, latencies, log);
			this.rows.add(row);
			System.out.println(row);
			System.err.println("soak " + row);
		}
		for (Future<?> producer : running) {
			producer.get();
		}
		producers.shutdown();
		log.detach();
		return this.rows;
	}

	private String report(int minute, double txPerSecond, Latencies latencies, LogCounter log) {
		long[] measured = latencies.sorted();
		Map<String, Object> lag = this.admin.queryForMap("SELECT count(*) AS n, coalesce(extract(epoch FROM "
				+ "clock_timestamp() - min(created_at)), 0) AS age FROM keel_audit WHERE event_processed_at IS NULL");
		Long ledger = this.admin.queryForObject("SELECT count(*) FROM keel_audit_delivery WHERE status = 'pending'",
				Long.class);
		Map<String, Object> audit = table("keel_audit");
		Map<String, Object> deliveries = table("keel_audit_delivery");
		return String.format(Locale.ROOT, "%6d %8.0f %7.2f %7.2f %8d %8.1f %8d %8d %9d %9d %9d %9d %6d %6d", minute,
				txPerSecond, percentile(measured, 0.50), percentile(measured, 0.99),
				((Number) lag.get("n")).longValue(), ((Number) lag.get("age")).doubleValue(), ledger,
				heapAfterGc() / (1024 * 1024), ((Number) audit.get("bytes")).longValue() / (1024 * 1024),
				((Number) audit.get("dead")).longValue(),
				((Number) deliveries.get("bytes")).longValue() / (1024 * 1024),
				((Number) deliveries.get("dead")).longValue(), log.warnings.get(), log.errors.get());
	}

	private Map<String, Object> table(String name) {
		return this.admin.queryForMap(
				"SELECT pg_total_relation_size(?::regclass) AS bytes, "
						+ "coalesce((SELECT n_dead_tup FROM pg_stat_user_tables WHERE relid = ?::regclass), 0) AS dead",
				name, name);
	}

	/**
	 * The heap in use after a full collection: the live set. (What the pools report after
	 * their last collection is stale for the old generation between its collections, and
	 * jumps when one comes.) The pause, once a minute, delays far fewer than the minute's
	 * slowest 1% of transactions.
	 */
	private static long heapAfterGc() {
		System.gc();
		return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
	}

	private static double percentile(long[] sorted, double fraction) {
		if (sorted.length == 0) {
			return Double.NaN;
		}
		return sorted[Math.min(sorted.length - 1, (int) (sorted.length * fraction))] / 1e6;
	}

	/**
	 * Called by the subscriber that is timed: the latency of the member's transaction.
	 */
	static void received(String memberId) {
		Long committed = Benchmarks.commits.remove(memberId);
		if (committed != null) {
			window.get().add(System.nanoTime() - committed);
		}
	}

	/** One minute's latencies, in nanoseconds. */
	static final class Latencies {

		private final long[] values = new long[1 << 21];

		private final AtomicInteger count = new AtomicInteger();

		void add(long nanos) {
			int slot = this.count.getAndIncrement();
			if (slot < this.values.length) {
				this.values[slot] = nanos;
			}
		}

		long[] sorted() {
			long[] copy = Arrays.copyOf(this.values, Math.min(this.count.get(), this.values.length));
			Arrays.sort(copy);
			return copy;
		}

	}

	/** Counts the warnings and errors logged while the soak runs. */
	static final class LogCounter extends AppenderBase<ILoggingEvent> {

		final AtomicInteger warnings = new AtomicInteger();

		final AtomicInteger errors = new AtomicInteger();

		static LogCounter attach() {
			LogCounter counter = new LogCounter();
			LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
			counter.setContext(context);
			counter.start();
			context.getLogger(Logger.ROOT_LOGGER_NAME).addAppender(counter);
			return counter;
		}

		void detach() {
			((LoggerContext) LoggerFactory.getILoggerFactory()).getLogger(Logger.ROOT_LOGGER_NAME).detachAppender(this);
			stop();
		}

		@Override
		protected void append(ILoggingEvent event) {
			if (event.getLevel().isGreaterOrEqual(Level.ERROR)) {
				this.errors.incrementAndGet();
			}
			else if (event.getLevel().isGreaterOrEqual(Level.WARN)) {
				this.warnings.incrementAndGet();
			}
		}

	}

	/**
	 * The soak's four subscribers of {@code member.created}: one timed, two that only
	 * count, and one that fails 1% of events on their first attempt.
	 */
	static class Subscribers {

		final AtomicLong calls = new AtomicLong();

		private final Set<String> failedOnce = ConcurrentHashMap.newKeySet();

		@EventSubscriber(value = "member.created", name = "soakTimed")
		void timed(Event event) {
			received(event.target().id());
		}

		@EventSubscriber(value = "member.created", name = "soakSecond")
		void second(Event event) {
			this.calls.incrementAndGet();
		}

		@EventSubscriber(value = "member.created", name = "soakThird")
		void third(Event event) {
			this.calls.incrementAndGet();
		}

		@EventSubscriber(value = "member.created", name = "soakFlaky")
		void flaky(Event event) {
			// the set holds only the events waiting for their retry
			if (Math.floorMod(event.id().hashCode(), 100) == 0 && this.failedOnce.add(event.id())) {
				throw new IllegalStateException("fails once: " + event.id());
			}
			this.failedOnce.remove(event.id());
		}

	}

}
