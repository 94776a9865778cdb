package dev.pgevents;

import java.util.List;

import javax.sql.DataSource;

import org.junit.jupiter.api.Test;

import dev.pgevents.autoconfigure.EventsAutoConfiguration;
import dev.pgevents.autoconfigure.EventsDisabledSchemaAutoConfiguration;
import dev.pgevents.flyway.EventSchemaMigration;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.flyway.autoconfigure.FlywayAutoConfiguration;
import org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DriverManagerDataSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * With Flyway owning the schema ({@code events.schema.initialize=never}), a repeatable
 * migration of a few lines installs it for the application's tables, after the versioned
 * migrations that create them, and again whenever what it would install changes.
 */
class FlywaySchemaTests {

	private final String url = TestDatabase.create();

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(DataSourceAutoConfiguration.class,
				DataSourceTransactionManagerAutoConfiguration.class, JacksonAutoConfiguration.class,
				FlywayAutoConfiguration.class, EventsAutoConfiguration.class,
				EventsDisabledSchemaAutoConfiguration.class))
		.withPropertyValues("spring.datasource.url=" + this.url, "spring.flyway.enabled=true",
				"spring.flyway.locations=classpath:flyway/events", "events.schema.initialize=never")
		.withUserConfiguration(Migration.class)
		.withBean(Subscribers.class);

	@Test
	void theMigrationInstallsTheSchemaAndRunsAgainOnlyWhenItWouldInstallSomethingElse() {
		this.runner.run((context) -> {
			assertThat(context).hasNotFailed();
			InTransaction.write(context, "INSERT INTO account VALUES (1, 'ada@example.com', 'secret')");
			assertThat(context.getBean(Subscribers.class).of("accounts"))
				.extracting((event) -> event.eventName() + " " + event.target().data().get("passwordHash"))
				.containsExactly("account.created secret");
		});
		// the same configuration: nothing to do
		this.runner.run((context) -> assertThat(context).hasNotFailed());
		assertThat(applied()).containsExactly("Events schema");

		// another audited table and an excluded column: new triggers, installed by the
		// migration (events.schema.initialize=never checks them at startup)
		this.runner.withPropertyValues("events.audit.tables=invoice", "events.audit.exclude-columns=password_hash")
			.run((context) -> {
				assertThat(context).hasNotFailed();
				InTransaction.write(context, "INSERT INTO account VALUES (2, 'bob@example.com', 'secret')",
						"INSERT INTO invoice VALUES (1, 10)");
				assertThat(context.getBean(Subscribers.class).of("accounts"))
					.extracting((event) -> event.eventName() + " " + event.target().data().containsKey("passwordHash"))
					.containsExactly("account.created false");
				assertThat(new JdbcTemplate(context.getBean(DataSource.class))
					.queryForList("SELECT table_name FROM keel_audit WHERE id > 1 ORDER BY id", String.class))
					.containsExactly("account", "invoice");
			});
		assertThat(applied()).containsExactly("Events schema", "Events schema");
	}

	@Test
	void withTheEventsTurnedOffTheMigrationLeavesTheSchemaAloneAndTurnedOnItInstallsIt() {
		this.runner.withPropertyValues("events.enabled=false").run((context) -> assertThat(context).hasNotFailed());
		assertThat(auditTableExists()).isFalse();

		this.runner.run((context) -> assertThat(context).hasNotFailed());
		assertThat(auditTableExists()).isTrue();
		assertThat(applied()).containsExactly("Events schema", "Events schema");
	}

	@Test
	void aMissingTableFailsTheMigrationWithTheStartupMessage() {
		this.runner.withPropertyValues("events.audit.tables=nosuch").run((context) -> {
			context.getStartupFailure().printStackTrace();
			assertThat(context).getFailure()
				.hasStackTraceContaining("Table 'nosuch' listed in events.audit.tables[0] does not exist");
		});
	}

	private boolean auditTableExists() {
		return Boolean.TRUE.equals(new JdbcTemplate(new DriverManagerDataSource(this.url))
			.queryForObject("SELECT to_regclass('keel_audit') IS NOT NULL", Boolean.class));
	}

	private List<String> applied() {
		return new JdbcTemplate(new DriverManagerDataSource(this.url)).queryForList(
				"SELECT description FROM flyway_schema_history WHERE version IS NULL AND success ORDER BY installed_rank",
				String.class);
	}

	static class Subscribers extends RecordingSubscriber {

		@EventSubscriber("account.*")
		void accounts(Event event) {
			record("accounts", event);
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class Migration {

		@Bean
		R__Events_schema eventsSchemaMigration(EventSchemaScript script) {
			return new R__Events_schema(script);
		}

	}

	// named as Flyway names repeatable migrations: R__<description>
	static class R__Events_schema extends EventSchemaMigration {

		R__Events_schema(EventSchemaScript script) {
			super(script);
		}

	}

}
