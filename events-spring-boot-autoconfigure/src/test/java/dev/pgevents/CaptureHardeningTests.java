package dev.pgevents;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.pgevents.internal.capture.AuditSchema;
import dev.pgevents.internal.capture.SchemaCatalog;
import dev.pgevents.internal.capture.SchemaInstaller;

import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.SingleConnectionDataSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * The capture trigger runs in every writing session, of every role, on tables with
 * columns of any name: it names every function, operator and type with its schema, so
 * objects that a session finds first on its path never take the place of the built-in
 * ones; it never names a column; and it writes the audit table with its owner's
 * privileges.
 */
class CaptureHardeningTests {

	@Test
	void operatorsFoundFirstOnTheWritersSearchPathAreNeverCalled() {
		SingleConnectionDataSource connection = TestDatabase.withAuditedTables();
		try {
			JdbcTemplate jdbc = new JdbcTemplate(connection);
			// a schema searched before pg_catalog, with the operators the trigger uses
			// for
			// text, jsonb and arrays: each one would fail the write
			jdbc.execute("CREATE SCHEMA shadow");
			List<String> operators = List.of("=(text, text) boolean", "<>(text, text) boolean",
					"=(jsonb, jsonb) boolean", "=(jsonb[], jsonb[]) boolean", "||(text, text) text",
					"->(jsonb, text) jsonb");
			for (int i = 0; i < operators.size(); i++) {
				String[] parts = operators.get(i).split("[(), ]+");
				jdbc.execute("CREATE FUNCTION shadow.trap" + i + "(" + parts[1] + ", " + parts[2] + ") RETURNS "
						+ parts[3] + " LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'shadow operator called'; END $$");
				jdbc.execute("CREATE OPERATOR shadow." + parts[0] + " (FUNCTION = shadow.trap" + i + ", LEFTARG = "
						+ parts[1] + ", RIGHTARG = " + parts[2] + ")");
			}
			// with a subscriber for the tables' rows, writes outside the application look
			// it up
			jdbc.update("INSERT INTO keel_audit_subscriber (name, events) VALUES ('s', "
					+ "'{single.created,single.updated,single.deleted,pair.created,pair.updated,pair.deleted}')");
			jdbc.execute("SET search_path = shadow, pg_catalog, public");
			assertThatExceptionOfType(DataAccessException.class)
				.isThrownBy(() -> jdbc.queryForObject("SELECT 'a'::text = 'b'::text", Boolean.class))
				.withMessageContaining("shadow operator called");

			jdbc.update("INSERT INTO public.single VALUES (1, 'v'), (2, 'v')");
			jdbc.update("UPDATE public.single SET v = 'w'");
			jdbc.update("DELETE FROM public.single WHERE id = 1");
			jdbc.update("INSERT INTO public.pair VALUES (1, 1, 'v'), (1, 2, 'v')");
			jdbc.update("UPDATE public.pair SET v = 'w'");
			jdbc.update("DELETE FROM public.pair WHERE b = 1");

			jdbc.execute("RESET search_path");
			assertThat(jdbc.queryForList(
					"SELECT table_name || '.' || op || ' ' || (data ->> 'v') FROM keel_audit " + "ORDER BY id",
					String.class))
				.containsExactly("single.created v", "single.created v", "single.updated w", "single.updated w",
						"single.deleted w", "pair.created v", "pair.created v", "pair.updated w", "pair.updated w",
						"pair.deleted w");
		}
		finally {
			connection.destroy();
		}
	}

	@Test
	void columnsOfAnyNameAreCaptured() {
		SingleConnectionDataSource connection = new SingleConnectionDataSource(TestDatabase.create(), true);
		try {
			JdbcTemplate jdbc = new JdbcTemplate(connection);
			// the names the capture function uses for its aliases, variables and columns
			jdbc.execute("CREATE TABLE odd (id bigint PRIMARY KEY, n text, o text, t text, x text, d text, k text, "
					+ "key text, new_rows text, old_rows text, data text, v_op text, v_scope text, v_keys text, "
					+ "tg_table_name text, tg_op text, found text)");
			jdbc.execute("CREATE TABLE odd_pair (n integer, o integer, t text, d text, PRIMARY KEY (n, o))");
			AuditSchema schema = AuditSchema.resolve(jdbc, "keel_audit", List.of());
			new SchemaInstaller(schema, connection)
				.install(List.of(new SchemaCatalog(jdbc, schema).findTable("odd").orElseThrow(),
						new SchemaCatalog(jdbc, schema).findTable("odd_pair").orElseThrow()));

			jdbc.update("INSERT INTO odd (id, n, o, t, d, new_rows, data, v_op, tg_table_name) "
					+ "VALUES (1, 'n1', 'o1', 't1', 'd1', 'r1', 'x1', 'v1', 'g1'), (2, 'n2', 'o2', 't2', 'd2', 'r2', "
					+ "'x2', 'v2', 'g2')");
			jdbc.update("UPDATE odd SET n = n || '+', t = t || '+'");
			jdbc.update("DELETE FROM odd WHERE id = 1");
			jdbc.update("INSERT INTO odd_pair VALUES (1, 1, 'a', 'b'), (1, 2, 'c', 'd')");
			jdbc.update("UPDATE odd_pair SET t = t || '+'");
			jdbc.update("DELETE FROM odd_pair WHERE o = 1");

			assertThat(jdbc.queryForList("SELECT table_name || '.' || op || ' ' || (data ->> 'id') || ' '"
					+ " || (data ->> 'n') || ' ' || (data ->> 'o') || ' ' || (data ->> 't') || ' ' || (data ->> 'data')"
					+ " || ' ' || coalesce(previous_data ->> 'n', '-') FROM keel_audit WHERE table_name = 'odd' ORDER BY id",
					String.class))
				.containsExactly("odd.created 1 n1 o1 t1 x1 -", "odd.created 2 n2 o2 t2 x2 -",
						"odd.updated 1 n1+ o1 t1+ x1 n1", "odd.updated 2 n2+ o2 t2+ x2 n2",
						"odd.deleted 1 n1+ o1 t1+ x1 -");
			assertThat(jdbc.queryForList("SELECT op || ' ' || (data ->> 'n') || ',' || (data ->> 'o') || ' '"
					+ " || (data ->> 't') || ' ' || coalesce(previous_data ->> 't', '-') FROM keel_audit"
					+ " WHERE table_name = 'odd_pair' ORDER BY id", String.class))
				.containsExactly("created 1,1 a -", "created 1,2 c -", "updated 1,1 a+ a", "updated 1,2 c+ c",
						"deleted 1,1 a+ -");
			assertThat(jdbc.queryForObject("SELECT count(*) FROM keel_audit WHERE jsonb_typeof(data) <> 'object'",
					Integer.class))
				.isZero();
		}
		finally {
			connection.destroy();
		}
	}

	@Test
	void aRoleWithPrivilegesOnItsTableAloneWritesAnAuditedTable() throws SQLException {
		String url = TestDatabase.create();
		String suffix = "_" + ProcessHandle.current().pid() + "_" + System.nanoTime();
		String owner = "events_owner" + suffix;
		String writer = "events_writer" + suffix;
		SingleConnectionDataSource admin = new SingleConnectionDataSource(url, true);
		JdbcTemplate adminJdbc = new JdbcTemplate(admin);
		try {
			adminJdbc.execute("CREATE ROLE " + owner + " LOGIN");
			adminJdbc.execute("CREATE ROLE " + writer + " LOGIN");
			adminJdbc.execute("CREATE SCHEMA app AUTHORIZATION " + owner);
			SingleConnectionDataSource asOwner = new SingleConnectionDataSource(as(url, owner), true);
			try {
				// the application's role owns the table and installs the schema
				JdbcTemplate jdbc = new JdbcTemplate(asOwner);
				jdbc.execute("CREATE TABLE app.account (id bigint PRIMARY KEY, v text)");
				jdbc.execute("GRANT USAGE ON SCHEMA app TO " + writer);
				jdbc.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON app.account TO " + writer);
				AuditSchema schema = AuditSchema.resolve(jdbc, "app.keel_audit", List.of());
				new SchemaInstaller(schema, asOwner)
					.install(List.of(new SchemaCatalog(jdbc, schema).findTable("app.account").orElseThrow()));
			}
			finally {
				asOwner.destroy();
			}

			// another service's role, with privileges on the table alone
			try (Connection connection = DriverManager.getConnection(as(url, writer));
					Statement statement = connection.createStatement()) {
				statement.executeUpdate("INSERT INTO app.account VALUES (1, 'a'), (2, 'b')");
				statement.executeUpdate("UPDATE app.account SET v = 'c' WHERE id = 1");
				statement.executeUpdate("DELETE FROM app.account WHERE id = 2");
				// and it cannot use the capture function to write audit rows of its own
				statement.execute("CREATE TEMPORARY TABLE forged (id bigint PRIMARY KEY)");
				assertThatExceptionOfType(SQLException.class)
					.isThrownBy(() -> statement.execute("CREATE TRIGGER forge AFTER INSERT ON forged REFERENCING "
							+ "NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION app.keel_audit_capture('id')"))
					.withMessageContaining("permission denied for function");
			}
			assertThat(adminJdbc.queryForList(
					"SELECT op || ' ' || (data ->> 'id') || ' ' || (data ->> 'v') " + "FROM app.keel_audit ORDER BY id",
					String.class))
				.containsExactly("created 1 a", "created 2 b", "updated 1 c", "deleted 2 b");
		}
		finally {
			adminJdbc.execute("DROP SCHEMA IF EXISTS app CASCADE");
			adminJdbc.execute("DROP OWNED BY " + owner + ", " + writer);
			adminJdbc.execute("DROP ROLE IF EXISTS " + owner);
			adminJdbc.execute("DROP ROLE IF EXISTS " + writer);
			admin.destroy();
		}
	}

	/** The test database's URL, connecting as {@code role}. */
	private static String as(String url, String role) {
		return url.replaceAll("([?&])user=[^&]*", "$1user=" + role);
	}

}
