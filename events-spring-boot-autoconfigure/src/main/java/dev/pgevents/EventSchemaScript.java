package dev.pgevents;

import java.sql.Connection;
import java.util.List;

/**
 * The SQL that installs the audit schema and the capture triggers of this application's
 * audited tables, rendered from its own configuration, for migrations that own the schema
 * ({@code events.schema.initialize=never}). An auto-configured bean; run it with
 * {@link dev.pgevents.flyway.EventSchemaMigration} under Flyway, with the changelog
 * {@code dev/pgevents/liquibase/events-schema.yaml} under Liquibase, or write
 * {@link #script(Connection)} into a migration file.
 */
public interface EventSchemaScript {

	/**
	 * Every statement, in order: the audit, ledger, subscriber and instance tables and
	 * their indexes, the capture and lookup functions, and four capture triggers per
	 * audited table. Each can run again and changes only what it must: tables and indexes
	 * are created if they do not exist, functions and triggers created or replaced.
	 * @param connection a connection to the application's database, on which the audited
	 * tables are looked up (they must exist: run this after the migrations that create
	 * them)
	 * @return the statements, without terminating semicolons
	 * @throws IllegalStateException when an audited table is missing or wrong, with the
	 * message the application would fail to start with
	 */
	List<String> statements(Connection connection);

	/**
	 * The statements of {@link #statements(Connection)} that the database needs: those of
	 * each object that is missing or differs from this version's definition, in order;
	 * none when everything matches. Finding them reads the catalog only, so running them
	 * on every migration costs nothing and locks nothing while the schema is current.
	 * @param connection a connection to the application's database, as for
	 * {@link #statements(Connection)}
	 * @return the statements, without terminating semicolons
	 * @throws IllegalStateException when an audited table is missing or wrong, with the
	 * message the application would fail to start with
	 */
	List<String> differences(Connection connection);

	/**
	 * {@link #statements(Connection)} as one script, each statement ended by a semicolon
	 * and a blank line, for a migration file or {@code psql}. Function bodies are
	 * {@code $$}-quoted, which Flyway, Liquibase and {@code psql} handle.
	 * @param connection a connection to the application's database
	 * @return the script
	 */
	default String script(Connection connection) {
		StringBuilder script = new StringBuilder();
		for (String statement : statements(connection)) {
			script.append(statement.strip()).append(";\n\n");
		}
		return script.toString();
	}

	/**
	 * A checksum of what {@link #statements(Connection)} renders, as far as the
	 * configuration decides it: it changes with this library's SQL, the audit table's
	 * name, the tables named by subscribers and {@code events.audit.tables}, and the
	 * excluded columns. A repeatable migration with this checksum runs again whenever one
	 * of them changes.
	 * @return the checksum
	 */
	int checksum();

}
