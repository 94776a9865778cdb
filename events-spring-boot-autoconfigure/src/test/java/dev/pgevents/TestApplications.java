package dev.pgevents;

import org.springframework.boot.builder.SpringApplicationBuilder;
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
