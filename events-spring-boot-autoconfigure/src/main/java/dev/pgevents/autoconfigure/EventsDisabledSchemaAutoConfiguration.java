package dev.pgevents.autoconfigure;

import java.sql.Connection;
import java.util.List;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import dev.pgevents.EventSchemaScript;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * With {@code events.enabled=false}, the migrations that install the audit schema
 * ({@link dev.pgevents.flyway.EventSchemaMigration}, the Liquibase changelog) leave it as
 * it is instead of failing: an application may turn the events off in one environment and
 * keep one set of migrations. Turned on again, the Flyway migration's checksum differs
 * and it runs again.
 */
@AutoConfiguration
@ConditionalOnBooleanProperty(name = "events.enabled", havingValue = false)
public final class EventsDisabledSchemaAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean
	EventSchemaScript eventSchemaScript() {
		return new DisabledEventSchema();
	}

	/** No statements: the events are off. */
	static final class DisabledEventSchema implements EventSchemaScript {

		private static final Log logger = LogFactory.getLog(DisabledEventSchema.class);

		@Override
		public List<String> statements(Connection connection) {
			logger.info("events.enabled is false: the audit schema is left as it is");
			return List.of();
		}

		@Override
		public List<String> differences(Connection connection) {
			return statements(connection);
		}

		@Override
		public int checksum() {
			return 0;
		}

	}

}
