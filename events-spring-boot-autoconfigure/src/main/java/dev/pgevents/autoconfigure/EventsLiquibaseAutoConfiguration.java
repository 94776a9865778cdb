package dev.pgevents.autoconfigure;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.context.annotation.Bean;

/**
 * Makes the application's {@link dev.pgevents.EventSchemaScript} reachable by the
 * Liquibase change that installs the audit schema
 * ({@link dev.pgevents.liquibase.EventSchemaChange}), which Liquibase creates itself.
 */
@AutoConfiguration
@ConditionalOnClass(name = "liquibase.change.custom.CustomTaskChange")
public final class EventsLiquibaseAutoConfiguration {

	@Bean
	static SchemaScriptRegistration eventSchemaScriptRegistration() {
		return new SchemaScriptRegistration();
	}

}
