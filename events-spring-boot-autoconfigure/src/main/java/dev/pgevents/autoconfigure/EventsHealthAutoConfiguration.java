package dev.pgevents.autoconfigure;

import dev.pgevents.internal.dispatch.DeliveryEngine;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.context.annotation.Bean;

/**
 * The {@code events} health check, off with
 * {@code management.health.events.enabled=false}.
 */
@AutoConfiguration(after = EventsAutoConfiguration.class)
@ConditionalOnClass(name = EventsAutoConfiguration.HEALTH_INDICATOR)
@ConditionalOnBean(DeliveryEngine.class)
@ConditionalOnEnabledHealthIndicator("events")
public final class EventsHealthAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean(name = "eventsHealthIndicator")
	EventsHealthIndicator eventsHealthIndicator(DeliveryEngine engine, EventsProperties properties) {
		return new EventsHealthIndicator(engine, properties.getHealth().getMaxLag());
	}

}
