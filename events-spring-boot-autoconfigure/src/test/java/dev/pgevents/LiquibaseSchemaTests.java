package dev.pgevents;

import java.util.List;

import org.junit.jupiter.api.Test;

import dev.pgevents.autoconfigure.EventsAutoConfiguration;
import dev.pgevents.autoconfigure.EventsDisabledSchemaAutoConfiguration;
import dev.pgevents.autoconfigure.EventsLiquibaseAutoConfiguration;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration;
import org.springframework.boot.liquibase.autoconfigure.LiquibaseAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DriverManagerDataSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * With Liquibase owning the schema ({@code events.schema.initialize=never}), the
 * changelog the starter ships, included in the application's, installs the schema for the
 * application's tables after every other change set, and changes nothing while it is
 * current.
 */
class LiquibaseSchemaTests {

	private final String url = TestDatabase.create();

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(DataSourceAutoConfiguration.class,
				DataSourceTransactionManagerAutoConfiguration.class, JacksonAutoConfiguration.class,
				LiquibaseAutoConfiguration.class, EventsAutoConfiguration.class,
				EventsDisabledSchemaAutoConfiguration.class, EventsLiquibaseAutoConfiguration.class))
		.withPropertyValues("spring.datasource.url=" + this.url, "spring.liquibase.enabled=true",
				"spring.liquibase.change-log=classpath:liquibase/changelog.yaml", "events.schema.initialize=never")
		.withBean(Subscribers.class);

	@Test
	void theChangelogInstallsTheSchemaAndChangesItOnlyWhenTheApplicationNeedsSomethingElse() {
		this.runner.run((context) -> {
			assertThat(context).hasNotFailed();
			InTransaction.write(context, "INSERT INTO account VALUES (1, 'ada@example.com', 'secret')");
			assertThat(context.getBean(Subscribers.class).of("accounts"))
				.extracting((event) -> event.eventName() + " " + event.target().data().get("passwordHash"))
				.containsExactly("account.created secret");
		});
		List<String> triggers = triggerVersions();

		// the same configuration: the change set runs, and changes nothing
		this.runner.run((context) -> assertThat(context).hasNotFailed());
		assertThat(triggerVersions()).isEqualTo(triggers);
		assertThat(
				jdbc().queryForList("SELECT exectype FROM databasechangelog WHERE id = 'events-schema'", String.class))
			.containsExactly("RERAN");

		// another audited table and an excluded column: the change set installs their
		// triggers (events.schema.initialize=never checks them at startup)
		this.runner.withPropertyValues("events.audit.tables=invoice", "events.audit.exclude-columns=password_hash")
			.run((context) -> {
				assertThat(context).hasNotFailed();
				InTransaction.write(context, "INSERT INTO account VALUES (2, 'bob@example.com', 'secret')");
				assertThat(context.getBean(Subscribers.class).of("accounts"))
					.extracting((event) -> event.target().data().containsKey("passwordHash"))
					.containsExactly(false);
			});
		assertThat(jdbc().queryForObject(
				"SELECT count(*) FROM pg_trigger WHERE tgrelid = 'invoice'::regclass AND tgname LIKE 'keel_audit_%'",
				Integer.class))
			.isEqualTo(4);
	}

	@Test
	void withTheEventsTurnedOffTheChangeLeavesTheSchemaAlone() {
		this.runner.withPropertyValues("events.enabled=false").run((context) -> assertThat(context).hasNotFailed());
		assertThat(jdbc().queryForObject("SELECT to_regclass('keel_audit') IS NOT NULL", Boolean.class)).isFalse();
	}

	@Test
	void aMissingTableFailsTheUpdateWithTheStartupMessage() {
		this.runner.withPropertyValues("events.audit.tables=nosuch")
			.run((context) -> assertThat(context).getFailure()
				.hasStackTraceContaining("LiquibaseException")
				.hasStackTraceContaining("Table 'nosuch' listed in events.audit.tables[0] does not exist"));
	}

	/** The row versions of the capture triggers: a trigger replaced gets a new one. */
	private List<String> triggerVersions() {
		return jdbc().queryForList(
				"SELECT tgname || ' ' || xmin FROM pg_trigger WHERE tgname LIKE 'keel_audit_%' ORDER BY tgname",
				String.class);
	}

	private JdbcTemplate jdbc() {
		return new JdbcTemplate(new DriverManagerDataSource(this.url));
	}

	static class Subscribers extends RecordingSubscriber {

		@EventSubscriber("account.*")
		void accounts(Event event) {
			record("accounts", event);
		}

	}

}
