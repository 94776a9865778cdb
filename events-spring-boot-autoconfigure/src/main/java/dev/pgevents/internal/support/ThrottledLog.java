package dev.pgevents.internal.support;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.commons.logging.Log;
import org.jspecify.annotations.Nullable;

/**
 * A warning that can happen on every transaction (the database is down, a queue is full)
 * logged at most once per interval, with the number of occurrences since the last time:
 * an outage must be visible without flooding the log of every thread it touches.
 */
public final class ThrottledLog {

	private final Log logger;

	private final long intervalNanos;

	private final AtomicLong occurrences = new AtomicLong();

	private final AtomicLong lastLogged;

	/**
	 * Create a throttled warning.
	 * @param logger the log to write to
	 * @param interval the shortest time between two lines
	 */
	public ThrottledLog(Log logger, Duration interval) {
		this.logger = logger;
		this.intervalNanos = interval.toNanos();
		this.lastLogged = new AtomicLong(System.nanoTime() - this.intervalNanos - 1);
	}

	/**
	 * Count an occurrence, and log it unless a line was logged within the interval.
	 * @param message what happened and what follows from it
	 * @param cause the failure, logged with its stack trace, or {@code null} for none
	 */
	public void warn(String message, @Nullable Throwable cause) {
		long count = this.occurrences.incrementAndGet();
		long now = System.nanoTime();
		long last = this.lastLogged.get();
		if (now - last > this.intervalNanos && this.lastLogged.compareAndSet(last, now)) {
			this.occurrences.addAndGet(-count);
			this.logger.warn(message + ((count > 1) ? " (" + count + " times since the last such warning)" : ""),
					cause);
		}
	}

}
