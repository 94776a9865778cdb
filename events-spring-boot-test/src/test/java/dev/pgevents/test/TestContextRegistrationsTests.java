package dev.pgevents.test;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import dev.pgevents.WithTestDatabase;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.context.TestPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A test context's subscribers stay out of the registry that the applications sharing its
 * database read, unless the test asks otherwise.
 */
@WithTestDatabase
@SpringBootTest(classes = KitSubscribers.App.class, properties = { "spring.sql.init.mode=always",
		"spring.sql.init.schema-locations=classpath:member-schema.sql", "events.audit.tables=note" })
class TestContextRegistrationsTests {

	@Autowired
	JdbcTemplate jdbc;

	@Test
	void aTestContextRegistersNoSubscriber() {
		// the relay registers them as it starts, before the context is ready
		assertThat(this.jdbc.queryForList("SELECT name FROM keel_audit_subscriber", String.class)).isEmpty();
	}

	@Nested
	@TestPropertySource(properties = "events.relay.register-subscribers=true")
	class WhenTheTestAsksForIt {

		@Autowired
		JdbcTemplate jdbc;

		@Test
		void itsSubscribersAreRegistered() {
			assertThat(this.jdbc.queryForList("SELECT name FROM keel_audit_subscriber", String.class))
				.containsExactlyInAnyOrder("welcome", "noteSnapshots", "profiles");
		}

	}

}
