package dev.pgevents.internal.dispatch;

import java.time.Duration;
import java.util.concurrent.ThreadFactory;

import org.springframework.boot.task.SimpleAsyncTaskExecutorBuilder;
import org.springframework.boot.task.ThreadPoolTaskExecutorBuilder;
import org.springframework.boot.task.ThreadPoolTaskSchedulerBuilder;
import org.springframework.core.task.SimpleAsyncTaskExecutor;
import org.springframework.core.task.VirtualThreadTaskExecutor;
import org.springframework.scheduling.concurrent.CustomizableThreadFactory;
import org.springframework.scheduling.concurrent.ThreadPoolTaskExecutor;
import org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler;

/**
 * Makes the engine's threads with Spring's executors: each named {@code events-...}, on
 * virtual threads when the application runs on them
 * ({@code spring.threads.virtual.enabled} on Java 21 or later), and, for the pools,
 * waited for with a bound when they shut down. A thread that must keep the JVM alive (the
 * relay of a worker instance) is a platform thread either way: a virtual thread never
 * does.
 */
final class EngineThreads {

	/** How long a pool's shutdown waits for its threads to end. */
	static final Duration TERMINATION = Duration.ofSeconds(10);

	/** How long a stop waits for a loop's round in progress (a subscriber's call). */
	static final Duration LOOP_STOP = Duration.ofMinutes(1);

	private final boolean virtual;

	/**
	 * @param virtual whether the application runs on virtual threads
	 */
	EngineThreads(boolean virtual) {
		this.virtual = virtual;
	}

	/**
	 * A thread for a long-lived loop.
	 * @param name the thread's name
	 * @param daemon whether it lets the JVM exit
	 * @param body what it runs
	 * @return the thread, not started
	 */
	Thread newThread(String name, boolean daemon, Runnable body) {
		Thread thread = factory(name, daemon).newThread(body);
		thread.setName(name);
		return thread;
	}

	/**
	 * A pool of a fixed number of threads with a bounded queue, which rejects what does
	 * not fit; its shutdown waits for the running tasks, boundedly.
	 * @param prefix the threads' name prefix
	 * @param threads the number of threads, started as work comes
	 * @param queueCapacity how many tasks may wait
	 * @param drain whether its shutdown lets the tasks that wait run (else it cancels
	 * them and interrupts those that run)
	 * @return the pool, initialized
	 */
	ThreadPoolTaskExecutor pool(String prefix, int threads, int queueCapacity, boolean drain) {
		ThreadPoolTaskExecutor pool = new ThreadPoolTaskExecutorBuilder().corePoolSize(threads)
			.maxPoolSize(threads)
			.queueCapacity(queueCapacity)
			.threadNamePrefix(prefix)
			.awaitTermination(true)
			.awaitTerminationPeriod(TERMINATION)
			.build();
		pool.setWaitForTasksToCompleteOnShutdown(drain);
		pool.setThreadFactory(factory(prefix, true));
		pool.initialize();
		return pool;
	}

	/**
	 * A scheduler of one thread; its shutdown cancels what is scheduled and waits for the
	 * task in progress, boundedly.
	 * @param prefix the thread's name prefix
	 * @return the scheduler, initialized
	 */
	ThreadPoolTaskScheduler scheduler(String prefix) {
		ThreadPoolTaskScheduler scheduler = new ThreadPoolTaskSchedulerBuilder().poolSize(1)
			.threadNamePrefix(prefix)
			.awaitTermination(true)
			.awaitTerminationPeriod(TERMINATION)
			.build();
		scheduler.setThreadFactory(factory(prefix, true));
		scheduler.initialize();
		return scheduler;
	}

	/**
	 * An executor of a thread per task, for work done once (a stop in the background).
	 * @param prefix the threads' name prefix
	 * @return the executor
	 */
	SimpleAsyncTaskExecutor perTask(String prefix) {
		SimpleAsyncTaskExecutor executor = new SimpleAsyncTaskExecutorBuilder().threadNamePrefix(prefix)
			.virtualThreads(this.virtual)
			.taskTerminationTimeout(TERMINATION)
			.build();
		executor.setDaemon(true);
		return executor;
	}

	private ThreadFactory factory(String prefix, boolean daemon) {
		if (this.virtual && daemon) {
			return new VirtualThreadTaskExecutor(prefix).getVirtualThreadFactory();
		}
		CustomizableThreadFactory factory = new CustomizableThreadFactory(prefix);
		factory.setDaemon(daemon);
		return factory;
	}

}
