package dev.pgevents;

import dev.pgevents.autoconfigure.EventsAutoConfiguration;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The properties most tests start their applications with, in one place: the tables of
 * {@code member-schema.sql} (member, member_profile, welcome_email, note) created at
 * startup.
 */
final class TestApplications {

	/** Run the schema scripts at startup. */
	static final String SQL_INIT = "spring.sql.init.mode=always";

	/** The member tables' script. */
	static final String MEMBER_SCHEMA = "spring.sql.init.schema-locations=classpath:member-schema.sql";

	private TestApplications() {
	}

	/**
	 * A runner of the starter with Spring Boot's JDBC auto-configuration, on a database.
	 * @param url the database
	 * @return the runner
	 */
	static ApplicationContextRunner runner(String url) {
		return new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(DataSourceAutoConfiguration.class,
					DataSourceTransactionManagerAutoConfiguration.class, JacksonAutoConfiguration.class,
					EventsAutoConfiguration.class))
			.withPropertyValues("spring.datasource.url=" + url);
	}

	/**
	 * Start an application on a database, with the member tables.
	 * @param application the application's configuration
	 * @param url the database
	 * @param properties more properties
	 * @return the running application
	 */
	static ConfigurableApplicationContext start(Class<?> application, String url, String... properties) {
		return new SpringApplicationBuilder(application)
			.properties("spring.datasource.url=" + url, SQL_INIT, MEMBER_SCHEMA, "spring.main.banner-mode=off")
			.properties(properties)
			.run();
	}

}
