package dev.pgevents.autoconfigure;

import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter.MeterProvider;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;

import dev.pgevents.internal.dispatch.DeliveryObserver;

/**
 * The delivery engine's metrics: {@code events.deliveries} (a counter by subscriber,
 * event and outcome), {@code events.latency} (from the row's write to the start of the
 * subscriber call, by subscriber and path), and the gauges {@code events.pending},
 * {@code events.dead} and {@code events.lag} (seconds), which read the backlog the relay
 * measures every few seconds.
 */
final class MicrometerDeliveryObserver implements DeliveryObserver {

	private final MeterProvider<Counter> deliveries;

	private final MeterProvider<Timer> latency;

	private final AtomicLong pending = new AtomicLong();

	private final AtomicLong dead = new AtomicLong();

	private final AtomicLong lagMillis = new AtomicLong();

	MicrometerDeliveryObserver(MeterRegistry registry) {
		this.deliveries = Counter.builder("events.deliveries")
			.description("Subscriber calls, by outcome: delivered, failed (will be retried), dead (dead-lettered)")
			.withRegistry(registry);
		this.latency = Timer.builder("events.latency")
			.description("From the row's write to the start of the subscriber call")
			.withRegistry(registry);
		Gauge.builder("events.pending", this.pending, AtomicLong::get)
			.description("Undispatched audit rows plus deliveries waiting for a retry")
			.register(registry);
		Gauge.builder("events.dead", this.dead, AtomicLong::get)
			.description("Dead-lettered deliveries")
			.register(registry);
		Gauge.builder("events.lag", this.lagMillis, (millis) -> millis.get() / 1000.0)
			.description("Age of the oldest undispatched audit row or overdue retry; 0 when there is none")
			.baseUnit("seconds")
			.register(registry);
	}

	@Override
	public void called(String subscriber, String eventName, Path path, Duration latency, Outcome outcome) {
		this.deliveries.withTags(Tags.of("subscriber", subscriber, "event", eventName, "outcome", name(outcome)))
			.increment();
		this.latency.withTags(Tags.of("subscriber", subscriber, "path", name(path)))
			.record(Math.max(0, latency.toNanos()), TimeUnit.NANOSECONDS);
	}

	@Override
	public void backlog(long pending, long dead, Duration lag) {
		this.pending.set(pending);
		this.dead.set(dead);
		this.lagMillis.set(lag.toMillis());
	}

	@Override
	public boolean wantsBacklog() {
		return true;
	}

	private static String name(Enum<?> value) {
		return value.name().toLowerCase(Locale.ROOT);
	}

}
