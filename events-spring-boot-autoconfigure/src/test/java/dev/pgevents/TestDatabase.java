package dev.pgevents;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import dev.pgevents.internal.capture.AuditSchema;
import dev.pgevents.internal.capture.SchemaCatalog;
import dev.pgevents.internal.capture.SchemaInstaller;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.SingleConnectionDataSource;

/**
 * A real PostgreSQL for the tests: an embedded server started once per test JVM, or the
 * server named by the environment variable {@value #URL_VARIABLE} (an admin database URL,
 * e.g. {@code jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres}). Every caller of
 * {@link #create()} gets a new, empty database of its own.
 */
public final class TestDatabase {

	/** Environment variable naming an external server. */
	public static final String URL_VARIABLE = "EVENTS_TEST_DATABASE_URL";

	private static final AtomicInteger counter = new AtomicInteger();

	private static String adminUrl;

	private TestDatabase() {
	}

	/**
	 * Create an empty database.
	 * @return its JDBC URL, with credentials
	 */
	public static synchronized String create() {
		String admin = adminUrl();
		String name = "events_" + ProcessHandle.current().pid() + "_" + counter.incrementAndGet();
		try (Connection connection = DriverManager.getConnection(admin);
				Statement statement = connection.createStatement()) {
			statement.execute("DROP DATABASE IF EXISTS " + name);
			statement.execute("CREATE DATABASE " + name);
		}
		catch (SQLException ex) {
			throw new IllegalStateException("Cannot create test database on " + admin, ex);
		}
		int query = admin.indexOf('?');
		String base = (query < 0) ? admin : admin.substring(0, query);
		String parameters = (query < 0) ? "" : admin.substring(query);
		return base.substring(0, base.lastIndexOf('/') + 1) + name + parameters;
	}

	/**
	 * Create a database on one connection, with the audit schema installed and one
	 * audited table of each kind of primary key:
	 * {@code single (id bigint PRIMARY KEY, v text)} and
	 * {@code pair (a integer, b integer, v text, PRIMARY KEY (a, b))}.
	 * @return the connection; destroy it when done
	 */
	public static SingleConnectionDataSource withAuditedTables() {
		SingleConnectionDataSource connection = new SingleConnectionDataSource(create(), true);
		JdbcTemplate jdbc = new JdbcTemplate(connection);
		jdbc.execute("CREATE TABLE single (id bigint PRIMARY KEY, v text)");
		jdbc.execute("CREATE TABLE pair (a integer, b integer, v text, PRIMARY KEY (a, b))");
		AuditSchema schema = AuditSchema.resolve(jdbc, "keel_audit", List.of());
		new SchemaInstaller(schema, connection)
			.install(List.of(new SchemaCatalog(jdbc, schema).findTable("single").orElseThrow(),
					new SchemaCatalog(jdbc, schema).findTable("pair").orElseThrow()));
		return connection;
	}

	/**
	 * How many tuples of the audit table sequential scans have read, and index scans
	 * fetched, so far ({@code seq} and {@code idx}): their growth shows how a statement
	 * read the table.
	 * @param jdbc the test database
	 * @return the two counts
	 */
	public static Map<String, Object> auditTuplesRead(JdbcTemplate jdbc) {
		jdbc.execute("SELECT pg_stat_force_next_flush()");
		jdbc.execute("SELECT pg_stat_clear_snapshot()");
		return jdbc.queryForMap("SELECT coalesce(seq_tup_read, 0) AS seq, coalesce(idx_tup_fetch, 0) AS idx "
				+ "FROM pg_stat_user_tables WHERE relname = 'keel_audit'");
	}

	private static String adminUrl() {
		if (adminUrl == null) {
			String external = System.getenv(URL_VARIABLE);
			adminUrl = (external != null && !external.isBlank()) ? external : startEmbedded();
		}
		return adminUrl;
	}

	private static String startEmbedded() {
		try {
			EmbeddedPostgres postgres = EmbeddedPostgres.builder().start();
			Runtime.getRuntime().addShutdownHook(new Thread(() -> {
				try {
					postgres.close();
				}
				catch (IOException ex) {
					// the JVM is exiting
				}
			}));
			return postgres.getJdbcUrl("postgres", "postgres");
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Cannot start the embedded PostgreSQL", ex);
		}
	}

}
