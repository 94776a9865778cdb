package dev.pgevents;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;

import org.junit.jupiter.api.Test;

import dev.pgevents.autoconfigure.EventsAutoConfiguration;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DriverManagerDataSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The script {@link EventSchemaScript} renders, run by any tool (here: one JDBC
 * statement, as {@code psql} would run the file), installs what an application with
 * {@code events.schema.initialize=never} needs, and can run again.
 */
class SchemaScriptTests {

	private static final String TABLES = "CREATE TABLE account (id bigint PRIMARY KEY, email text NOT NULL)";

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(DataSourceAutoConfiguration.class,
				DataSourceTransactionManagerAutoConfiguration.class, JacksonAutoConfiguration.class,
				EventsAutoConfiguration.class))
		.withPropertyValues("events.audit.exclude-columns=email")
		.withBean(Subscribers.class);

	@Test
	void theRenderedScriptInstallsTheSchemaOfAnotherDatabaseAndCanRunAgain() throws Exception {
		String development = TestDatabase.create();
		String production = TestDatabase.create();
		for (String url : new String[] { development, production }) {
			new JdbcTemplate(new DriverManagerDataSource(url)).execute(TABLES);
		}
		// rendered by the application running against one database, for the other
		String[] script = new String[1];
		this.runner.withPropertyValues("spring.datasource.url=" + development).run((context) -> {
			try (Connection connection = DriverManager.getConnection(production)) {
				script[0] = context.getBean(EventSchemaScript.class).script(connection);
			}
		});
		assertThat(script[0]).doesNotContain("{{")
			.contains("CREATE OR REPLACE TRIGGER")
			.contains("ALTER TABLE \"public\".\"keel_audit_delivery\" ADD COLUMN IF NOT EXISTS row_key text")
			.containsPattern("CREATE INDEX IF NOT EXISTS keel_audit_order_[0-9a-f]{8} ON \"public\".\"keel_audit\" "
					+ "\\(\\(data -> 'id'\\), id\\)");
		for (int run = 0; run < 2; run++) {
			try (Connection connection = DriverManager.getConnection(production);
					Statement statement = connection.createStatement()) {
				statement.execute(script[0]);
			}
		}

		this.runner.withPropertyValues("spring.datasource.url=" + production, "events.schema.initialize=never")
			.run((context) -> {
				assertThat(context).hasNotFailed();
				InTransaction.write(context, "INSERT INTO account VALUES (1, 'ada@example.com')");
				assertThat(context.getBean(Subscribers.class).of("accounts"))
					.extracting((event) -> event.eventName() + " " + event.target().data().keySet())
					.containsExactly("account.created [id]");
			});
	}

	static class Subscribers extends RecordingSubscriber {

		@EventSubscriber("account.created")
		void accounts(Event event) {
			record("accounts", event);
		}

		@EventSubscriber(value = "account.updated", ordered = true)
		void accountsInOrder(Event event) {
			record("accountsInOrder", event);
		}

	}

}
