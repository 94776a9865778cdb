package dev.pgevents.autoconfigure;

import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter.MeterProvider;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.observation.transport.ReceiverContext;
import org.jspecify.annotations.Nullable;

import dev.pgevents.Event;
import dev.pgevents.internal.dispatch.DeliveryObserver;

/**
 * The delivery engine's metrics and observations: {@code events.deliveries} (a counter by
 * subscriber, event and outcome), {@code events.chains.stopped} (deliveries an event
 * loop's depth stopped, by subscriber and event), {@code events.latency} (from the row's
 * write to the start of the subscriber call, by subscriber and path), the gauges
 * {@code events.pending}, {@code events.dead} and {@code events.lag} (seconds), which
 * read the backlog the relay measures every few seconds; and the {@code events.delivery}
 * observation around each subscriber call (a timer, and with Micrometer Tracing a span
 * that continues the trace of the transaction that wrote the row, on every path).
 */
final class MicrometerDeliveryObserver implements DeliveryObserver {

	private final @Nullable MeterProvider<Counter> deliveries;

	private final @Nullable MeterProvider<Timer> latency;

	private final @Nullable MeterProvider<Counter> chainsStopped;

	private final ObservationRegistry observations;

	private final AtomicLong pending = new AtomicLong();

	private final AtomicLong dead = new AtomicLong();

	private final AtomicLong lagMillis = new AtomicLong();

	private final @Nullable MeterRegistry registry;

	private final Map<String, AtomicLong> parked = new ConcurrentHashMap<>();

	MicrometerDeliveryObserver(@Nullable MeterRegistry registry, @Nullable ObservationRegistry observations) {
		this.observations = (observations != null) ? observations : ObservationRegistry.NOOP;
		this.registry = registry;
		if (registry == null) {
			this.deliveries = null;
			this.latency = null;
			this.chainsStopped = null;
			return;
		}
		this.chainsStopped = Counter.builder("events.chains.stopped")
			.description("Deliveries dead-lettered because their event is deeper than events.dispatch.max-chain-depth "
					+ "in a chain of events that subscribers caused")
			.withRegistry(registry);
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
	public void observe(String subscriber, Event event, String traceparent, Path path, Call call) throws Exception {
		if (this.observations.isNoop()) {
			call.run();
			return;
		}
		DeliveryContext context = new DeliveryContext(traceparent);
		Observation observation = Observation.createNotStarted("events.delivery", () -> context, this.observations)
			.contextualName(event.eventName() + " " + subscriber)
			.lowCardinalityKeyValue("subscriber", subscriber)
			.lowCardinalityKeyValue("event", event.eventName())
			.lowCardinalityKeyValue("path", name(path))
			.highCardinalityKeyValue("event.id", event.id())
			.start();
		try (Observation.Scope scope = observation.openScope()) {
			call.run();
		}
		catch (Exception | Error ex) {
			observation.error(ex);
			throw ex;
		}
		finally {
			observation.stop();
		}
	}

	@Override
	public void called(String subscriber, String eventName, Path path, Duration latency, Outcome outcome) {
		MeterProvider<Counter> deliveries = this.deliveries;
		MeterProvider<Timer> timer = this.latency;
		if (deliveries == null || timer == null) {
			return;
		}
		deliveries.withTags(Tags.of("subscriber", subscriber, "event", eventName, "outcome", name(outcome)))
			.increment();
		timer.withTags(Tags.of("subscriber", subscriber, "path", name(path)))
			.record(Math.max(0, latency.toNanos()), TimeUnit.NANOSECONDS);
	}

	@Override
	public void chainStopped(String subscriber, String eventName) {
		MeterProvider<Counter> stopped = this.chainsStopped;
		if (stopped != null) {
			stopped.withTags(Tags.of("subscriber", subscriber, "event", eventName)).increment();
		}
	}

	@Override
	public void backlog(long pending, long dead, Duration lag, Map<String, Long> parked) {
		this.pending.set(pending);
		this.dead.set(dead);
		this.lagMillis.set(lag.toMillis());
		MeterRegistry registry = this.registry;
		if (registry != null) {
			parked.forEach((subscriber, rows) -> this.parked.computeIfAbsent(subscriber, (name) -> {
				AtomicLong gauge = new AtomicLong();
				Gauge.builder("events.parked", gauge, AtomicLong::get)
					.description("Rows an ordered subscriber has parked behind a dead letter: their later events "
							+ "wait until it is replayed or skipped")
					.tag("subscriber", name)
					.register(registry);
				return gauge;
			}).set(rows));
		}
	}

	@Override
	public boolean wantsBacklog() {
		return this.deliveries != null;
	}

	private static String name(Enum<?> value) {
		return value.name().toLowerCase(Locale.ROOT);
	}

	/**
	 * A subscriber call receives the trace of the transaction that wrote its row, as a
	 * consumer receives a message's: tracing continues it from the stored traceparent.
	 */
	static final class DeliveryContext extends ReceiverContext<Map<String, String>> {

		DeliveryContext(String traceparent) {
			super((carrier, key) -> carrier.get(key));
			setCarrier(Map.of("traceparent", traceparent));
		}

	}

}
