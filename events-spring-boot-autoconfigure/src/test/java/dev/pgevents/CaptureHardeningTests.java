package dev.pgevents;

import java.util.List;

import org.junit.jupiter.api.Test;

import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.SingleConnectionDataSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * The capture trigger runs in every writing session, whatever its search_path: it names
 * every function, operator and type with its schema, so objects that a session finds first
 * on its path never take the place of the built-in ones.
 */
class CaptureHardeningTests {

	@Test
	void operatorsFoundFirstOnTheWritersSearchPathAreNeverCalled() {
		SingleConnectionDataSource connection = TestDatabase.withAuditedTables();
		try {
			JdbcTemplate jdbc = new JdbcTemplate(connection);
			// a schema searched before pg_catalog, with the operators the trigger uses for
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
			// with a subscriber for the tables' rows, writes outside the application look it up
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
			assertThat(jdbc.queryForList("SELECT table_name || '.' || op || ' ' || (data ->> 'v') FROM keel_audit "
					+ "ORDER BY id", String.class))
				.containsExactly("single.created v", "single.created v", "single.updated w", "single.updated w",
						"single.deleted w", "pair.created v", "pair.created v", "pair.updated w", "pair.updated w",
						"pair.deleted w");
		}
		finally {
			connection.destroy();
		}
	}

}
