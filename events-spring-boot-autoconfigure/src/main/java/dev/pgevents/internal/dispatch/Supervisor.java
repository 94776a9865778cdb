package dev.pgevents.internal.dispatch;

import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

/**
 * Runs the engine's long-lived loops (the relay, the ledger writer), each on a thread of
 * its own, and restarts a loop whose thread dies, with backoff. A loop retries a round
 * that failed with what one round can cause and the JVM survives (an exception, an
 * {@link OutOfMemoryError} from one oversized result, a {@link StackOverflowError});
 * anything else ends its thread, and until the loop runs again the health check reports
 * it.
 */
final class Supervisor {

	private static final Log logger = LogFactory.getLog(Supervisor.class);

	private static final Backoff RESTART = new Backoff(Integer.MAX_VALUE, Duration.ofSeconds(1), 2,
			Duration.ofMinutes(1));

	/** A loop that ran this long before it died starts over from the shortest delay. */
	private static final Duration STABLE = Duration.ofMinutes(5);

	private final Map<String, Loop> loops = new ConcurrentHashMap<>();

	private final EngineThreads threads;

	Supervisor(EngineThreads threads) {
		this.threads = threads;
	}

	/**
	 * Run a task once, on a thread of its own (a stop in the background).
	 * @param name the thread's name prefix
	 * @param task the task
	 */
	void background(String name, Runnable task) {
		this.threads.perTask(name).execute(task);
	}

	/**
	 * Start a loop on a thread of its own.
	 * @param name the thread's name
	 * @param daemon whether the thread lets the JVM exit
	 * @param body the loop, which returns when it is asked to stop
	 * @return the loop
	 */
	Loop start(String name, boolean daemon, Runnable body) {
		Loop loop = new Loop(name, daemon, body);
		this.loops.put(name, loop);
		loop.launch(Duration.ZERO);
		return loop;
	}

	/**
	 * The loops whose thread died and that wait to be restarted, with what ended them.
	 * @return thread name to failure, empty when all run
	 */
	Map<String, String> failing() {
		Map<String, String> failing = new TreeMap<>();
		this.loops.forEach((name, loop) -> {
			Throwable died = loop.died;
			if (died != null) {
				failing.put(name, died.toString());
			}
		});
		return failing;
	}

	/**
	 * A loop and its current thread.
	 */
	final class Loop {

		private final String name;

		private final boolean daemon;

		private final Runnable body;

		private final CountDownLatch stopping = new CountDownLatch(1);

		private volatile @Nullable Thread thread;

		private volatile @Nullable Throwable died;

		private int deaths;

		private long startedAt;

		private Loop(String name, boolean daemon, Runnable body) {
			this.name = name;
			this.daemon = daemon;
			this.body = body;
		}

		private void launch(Duration delay) {
			Thread thread = Supervisor.this.threads.newThread(this.name, this.daemon, () -> run(delay));
			thread.setUncaughtExceptionHandler((dead, failure) -> died(failure));
			this.thread = thread;
			thread.start();
		}

		private void run(Duration delay) {
			try {
				if (this.stopping.await(delay.toMillis(), TimeUnit.MILLISECONDS)) {
					return;
				}
			}
			catch (InterruptedException ex) {
				return;
			}
			this.startedAt = System.nanoTime();
			this.died = null;
			this.body.run();
		}

		private void died(Throwable failure) {
			this.died = failure;
			if (this.stopping.getCount() == 0) {
				return;
			}
			if (System.nanoTime() - this.startedAt > STABLE.toNanos()) {
				this.deaths = 0;
			}
			Duration delay = RESTART.delayAfter(++this.deaths);
			logger.error("The thread " + this.name + " died; it is restarted in " + delay.toMillis() + " ms", failure);
			launch(delay);
		}

		/**
		 * Whether the loop's current thread runs (or waits to restart it).
		 * @return whether it is alive
		 */
		boolean alive() {
			Thread thread = this.thread;
			return thread != null && thread.isAlive();
		}

		/**
		 * Restart no more, and wait for the thread that runs, which the caller has asked
		 * to return.
		 * @param timeout how long to wait
		 * @return whether the thread ended
		 * @throws InterruptedException when the waiting thread is interrupted
		 */
		boolean stop(Duration timeout) throws InterruptedException {
			this.stopping.countDown();
			Thread thread = this.thread;
			while (thread != null) {
				thread.join(timeout.toMillis());
				Thread next = this.thread;
				if (next == thread) {
					break;
				}
				thread = next;
			}
			Supervisor.this.loops.remove(this.name, this);
			return thread == null || !thread.isAlive();
		}

		/**
		 * Interrupt the loop's thread.
		 */
		void interrupt() {
			Thread thread = this.thread;
			if (thread != null) {
				thread.interrupt();
			}
		}

	}

}
