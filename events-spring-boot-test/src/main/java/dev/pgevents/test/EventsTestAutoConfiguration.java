package dev.pgevents.test;

import java.time.Duration;

import dev.pgevents.autoconfigure.EventsAutoConfiguration;
import dev.pgevents.kit.EventLog;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * The test kit's beans, in every application context of a test classpath that has the kit
 * and an active starter. {@link RecordedEventsTestExecutionListener} starts the recording
 * again before each test method.
 */
@AutoConfiguration(after = EventsAutoConfiguration.class)
@ConditionalOnBean(EventLog.class)
public final class EventsTestAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean
	RecordedEvents recordedEvents(EventLog log) {
		return new RecordedEvents(log);
	}

	@Bean
	@ConditionalOnMissingBean
	EventScenario eventScenario(EventLog log) {
		return new EventScenario(log, Duration.ofSeconds(EventScenario.DEFAULT_TIMEOUT_SECONDS));
	}

}
