package dev.pgevents;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.function.Consumer;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Application threads that write {@code member} rows in a loop, each in a transaction of
 * its own, as a busy application does: what they committed, how often each thread
 * committed and what failed.
 */
final class Writers implements AutoCloseable {

	final Set<UUID> committed = ConcurrentHashMap.newKeySet();

	/**
	 * The first failures (a thread that fails at once and forever must not fill the
	 * heap).
	 */
	final Queue<Throwable> failures = new ConcurrentLinkedQueue<>();

	private final AtomicInteger failureCount = new AtomicInteger();

	private final AtomicIntegerArray commits;

	private final AtomicIntegerArray failed;

	private final List<Thread> threads = new ArrayList<>();

	private volatile boolean running = true;

	/**
	 * Start writing.
	 * @param threads how many threads write
	 * @param transactions the application's transactions
	 * @param jdbc the application's JdbcTemplate
	 * @param transaction what one transaction does besides inserting its member row
	 */
	Writers(int threads, TransactionTemplate transactions, JdbcTemplate jdbc, Consumer<JdbcTemplate> transaction) {
		this.commits = new AtomicIntegerArray(threads);
		this.failed = new AtomicIntegerArray(threads);
		for (int i = 0; i < threads; i++) {
			int index = i;
			Thread thread = new Thread(() -> {
				while (this.running) {
					UUID id = UUID.randomUUID();
					try {
						transactions.executeWithoutResult((status) -> {
							jdbc.update("INSERT INTO member (id, name, email) VALUES (?, 'w', 'w')", id);
							transaction.accept(jdbc);
						});
						this.committed.add(id);
						this.commits.incrementAndGet(index);
					}
					catch (RuntimeException ex) {
						if (this.failureCount.incrementAndGet() <= 100) {
							this.failures.add(ex);
						}
						this.failed.incrementAndGet(index);
					}
				}
			}, "writer-" + i);
			this.threads.add(thread);
			thread.start();
		}
	}

	Writers(int threads, TransactionTemplate transactions, JdbcTemplate jdbc) {
		this(threads, transactions, jdbc, (ignored) -> {
		});
	}

	/**
	 * Wait until every thread has committed {@code more} transactions after this call.
	 * @param more transactions per thread
	 * @param atMost how long to wait
	 */
	void awaitEachCommits(int more, Duration atMost) {
		int[] from = snapshot(this.commits);
		await().atMost(atMost).untilAsserted(() -> {
			for (int i = 0; i < from.length; i++) {
				assertThat(this.commits.get(i)).as("commits of writer-" + i).isGreaterThanOrEqualTo(from[i] + more);
			}
		});
	}

	/**
	 * Wait until every thread has failed at least once after this call.
	 * @param atMost how long to wait
	 */
	void awaitEachFails(Duration atMost) {
		int[] from = snapshot(this.failed);
		await().atMost(atMost).untilAsserted(() -> {
			for (int i = 0; i < from.length; i++) {
				assertThat(this.failed.get(i)).as("failures of writer-" + i).isGreaterThan(from[i]);
			}
		});
	}

	int commits() {
		int total = 0;
		for (int i = 0; i < this.commits.length(); i++) {
			total += this.commits.get(i);
		}
		return total;
	}

	/**
	 * Wait until every committed row has reached {@code deliveries}.
	 * @param deliveries deliveries per member id
	 * @param atMost how long to wait
	 */
	void awaitDelivered(Map<UUID, AtomicInteger> deliveries, Duration atMost) {
		await().atMost(atMost).untilAsserted(() -> assertThat(deliveries.keySet()).containsAll(this.committed));
	}

	@Override
	public void close() throws InterruptedException {
		this.running = false;
		for (Thread thread : this.threads) {
			thread.join(TimeUnit.SECONDS.toMillis(30));
			assertThat(thread.isAlive()).as(thread.getName() + " stopped").isFalse();
		}
	}

	private static int[] snapshot(AtomicIntegerArray counts) {
		int[] values = new int[counts.length()];
		for (int i = 0; i < values.length; i++) {
			values[i] = counts.get(i);
		}
		return values;
	}

}
