package dev.pgevents;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Import;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A rolling deploy starts instances beside running ones that write: installing the schema
 * never fails nor holds up their writes, whether the new instance finds everything in
 * place or has triggers and functions to install.
 */
class RollingStartTests {

	@Test
	void instancesStartAndStopBesideWritersWithoutFailingAWrite() throws Exception {
		String url = TestDatabase.create();
		try (ConfigurableApplicationContext running = start(url);
				Writers writers = new Writers(3, running.getBean(TransactionTemplate.class),
						running.getBean(JdbcTemplate.class),
						(jdbc) -> jdbc.update("INSERT INTO note (body) VALUES ('n')"))) {
			JdbcTemplate admin = running.getBean(JdbcTemplate.class);
			for (int start = 0; start < 4; start++) {
				writers.awaitEachCommits(20, Duration.ofSeconds(30));
				if (start % 2 == 1) {
					// what the new instance must install while the others write: the
					// triggers
					// of a table it is the first to audit, and a changed capture function
					admin.execute("DROP TRIGGER IF EXISTS keel_audit_insert ON note");
					String function = admin.queryForObject("SELECT pg_get_functiondef('keel_audit_capture'::regproc)",
							String.class);
					admin.execute(function.replaceFirst("\\$function\\$", "\\$function\\$\n-- the previous version"));
				}
				try (ConfigurableApplicationContext starting = start(url)) {
					writers.awaitEachCommits(20, Duration.ofSeconds(30));
				}
			}
			writers.close();
			assertThat(writers.failures).isEmpty();
			assertThat(admin.queryForObject("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'note'::regclass "
					+ "AND tgname LIKE 'keel_audit_%'", Integer.class))
				.isEqualTo(4);
			writers.awaitDelivered(running.getBean(MemberDeliveries.class).deliveries, Duration.ofSeconds(30));
		}
	}

	private static ConfigurableApplicationContext start(String url) {
		return TestApplications.start(App.class, url, "events.audit.tables=note", "events.relay.poll-interval=200ms");
	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	@Import(MemberDeliveries.class)
	static class App {

	}

}
