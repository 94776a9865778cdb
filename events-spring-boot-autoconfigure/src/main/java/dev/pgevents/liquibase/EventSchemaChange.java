package dev.pgevents.liquibase;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

import dev.pgevents.EventSchemaScript;
import dev.pgevents.internal.capture.RunningSchemaScript;
import liquibase.change.custom.CustomTaskChange;
import liquibase.database.Database;
import liquibase.database.jvm.JdbcConnection;
import liquibase.exception.CustomChangeException;
import liquibase.exception.ValidationErrors;
import liquibase.resource.ResourceAccessor;

/**
 * A Liquibase change that brings the audit schema and the capture triggers of the
 * application's audited tables to this version's definitions
 * ({@link EventSchemaScript#differences}), for applications whose migrations own the
 * schema ({@code events.schema.initialize=never}). Include the changelog that runs it,
 * {@code dev/pgevents/liquibase/events-schema.yaml}, in yours: its change set runs on
 * every update, after all others, and changes nothing (and locks nothing) while the
 * schema is current. It runs inside the application (Spring Boot's Liquibase), whose
 * configuration says what to install.
 */
public class EventSchemaChange implements CustomTaskChange {

	@Override
	public void execute(Database database) throws CustomChangeException {
		EventSchemaScript script = RunningSchemaScript.script()
			.orElseThrow(() -> new CustomChangeException("The events audit schema is installed by the application "
					+ "that uses it, from its configuration: run this change with Spring Boot's Liquibase in an "
					+ "application with events-spring-boot-starter and one DataSource, not from the Liquibase CLI"));
		if (!(database.getConnection() instanceof JdbcConnection jdbc)) {
			throw new CustomChangeException("The events audit schema needs a database connection: it looks up "
					+ "the audited tables (offline and SQL-output modes are not supported)");
		}
		Connection connection = jdbc.getUnderlyingConnection();
		try (Statement statement = connection.createStatement()) {
			for (String sql : script.differences(connection)) {
				statement.execute(sql);
			}
		}
		catch (SQLException ex) {
			throw new CustomChangeException("Installing the events audit schema failed: " + ex.getMessage(), ex);
		}
	}

	@Override
	public String getConfirmationMessage() {
		return "The events audit schema matches the application's audited tables";
	}

	@Override
	public void setUp() {
	}

	@Override
	public void setFileOpener(ResourceAccessor resourceAccessor) {
	}

	@Override
	public ValidationErrors validate(Database database) {
		return new ValidationErrors();
	}

}
