package dev.pgevents.autoconfigure;

import javax.sql.DataSource;

import io.micrometer.tracing.Tracer;

import dev.pgevents.TraceSource;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.context.annotation.Bean;

/**
 * Records the current Micrometer trace with every change. Runs before
 * {@link EventsAutoConfiguration}, whose fallback gives each transaction a trace of its
 * own, and so shares its conditions instead of backing off with it.
 */
@AutoConfiguration(before = EventsAutoConfiguration.class, after = DataSourceAutoConfiguration.class,
		afterName = "org.springframework.boot.micrometer.tracing.autoconfigure.MicrometerTracingAutoConfiguration")
@ConditionalOnClass(Tracer.class)
@ConditionalOnSingleCandidate(DataSource.class)
@ConditionalOnBooleanProperty(name = "events.enabled", matchIfMissing = true)
public final class EventsTracingAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean
	TraceSource eventTraceSource(ObjectProvider<Tracer> tracer) {
		Tracer available = tracer.getIfUnique();
		return (available != null) ? new MicrometerTraceSource(available) : () -> null;
	}

}
