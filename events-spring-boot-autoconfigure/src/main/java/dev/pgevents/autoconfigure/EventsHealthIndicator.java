package dev.pgevents.autoconfigure;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.jspecify.annotations.Nullable;

import dev.pgevents.internal.dispatch.DeliveryEngine;

import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;

/**
 * The {@code events} health check: DOWN when an audited table lost a capture trigger (its
 * changes are no longer captured), while a thread of this instance that died waits to be
 * restarted, when its relay thread died for good, or, if {@code events.health.max-lag} is
 * set, when the lag exceeds it. Reads what the relay last checked and measured (every few
 * seconds): a health request never queries the database.
 */
final class EventsHealthIndicator extends AbstractHealthIndicator {

	private final DeliveryEngine engine;

	private final @Nullable Duration maxLag;

	EventsHealthIndicator(DeliveryEngine engine, @Nullable Duration maxLag) {
		super("Events health check failed");
		this.engine = engine;
		this.maxLag = maxLag;
	}

	@Override
	protected void doHealthCheck(Health.Builder builder) {
		DeliveryEngine.Status status = this.engine.status();
		builder.up().withDetail("relay", status.relay()).withDetail("listener", status.listener());
		DeliveryEngine.Measure backlog = status.backlog();
		if (backlog != null) {
			builder.withDetail("pending", backlog.pending())
				.withDetail("dead", backlog.dead())
				.withDetail("lag", backlog.lag().toMillis() / 1000.0);
			if (!backlog.parked().isEmpty()) {
				builder.withDetail("parked", backlog.parked());
			}
			if (this.maxLag != null && backlog.lag().compareTo(this.maxLag) > 0) {
				builder.down().withDetail("reason", "the lag exceeds events.health.max-lag (" + this.maxLag + ")");
			}
		}
		Map<String, List<String>> missing = status.missingTriggers();
		if (!missing.isEmpty()) {
			builder.down()
				.withDetail("missingTriggers", missing)
				.withDetail("reason", "audited tables lost capture triggers: their changes are not captured");
		}
		if (!status.restarting().isEmpty()) {
			builder.down()
				.withDetail("restarting", status.restarting())
				.withDetail("reason", "threads of this instance died; they are restarted with backoff");
		}
		if ("dead".equals(status.relay())) {
			builder.down().withDetail("reason", "the relay thread of this instance has died");
		}
	}

}
