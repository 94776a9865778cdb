package dev.pgevents.autoconfigure;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.observation.ObservationRegistry;

import dev.pgevents.internal.dispatch.DeliveryEngine;
import dev.pgevents.internal.dispatch.DeliveryObserver;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * The events' meters and observations ({@code events.*}), on the application's
 * {@link MeterRegistry} and {@link ObservationRegistry}. A {@link DeliveryObserver} bean
 * of the application's replaces them.
 */
@AutoConfiguration(after = EventsAutoConfiguration.class,
		afterName = { "org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration",
				"org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration",
				"org.springframework.boot.micrometer.observation.autoconfigure.ObservationAutoConfiguration" })
@ConditionalOnClass(MeterRegistry.class)
@ConditionalOnBean(DeliveryEngine.class)
public final class EventsMetricsAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean
	DeliveryObserver eventDeliveryMetrics(ObjectProvider<MeterRegistry> registry,
			ObjectProvider<ObservationRegistry> observations) {
		MeterRegistry meters = registry.getIfUnique();
		ObservationRegistry observed = observations.getIfUnique();
		return (meters != null || observed != null) ? new MicrometerDeliveryObserver(meters, observed)
				: DeliveryObserver.NONE;
	}

}
