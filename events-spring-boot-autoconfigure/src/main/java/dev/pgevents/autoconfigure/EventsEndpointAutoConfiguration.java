package dev.pgevents.autoconfigure;

import javax.sql.DataSource;

import dev.pgevents.EventDeliveries;
import dev.pgevents.internal.capture.AuditSchema;
import dev.pgevents.internal.dispatch.DeliveryEngine;

import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The {@code events} actuator endpoint, where it is exposed.
 */
@AutoConfiguration(after = EventsAutoConfiguration.class)
@ConditionalOnClass(name = "org.springframework.boot.actuate.endpoint.annotation.Endpoint")
@ConditionalOnBean(DeliveryEngine.class)
public final class EventsEndpointAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean
	@ConditionalOnAvailableEndpoint
	EventsEndpoint eventsEndpoint(EventDeliveries deliveries, DeliveryEngine engine, DataSource dataSource,
			AuditSchema schema) {
		return new EventsEndpoint(deliveries, engine, new JdbcTemplate(dataSource), schema);
	}

}
