package dev.pgevents;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Import;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Starting and stopping the application many times leaks no thread and no connection.
 */
@Tag("slow")
class LifecycleTests {

	static final int CYCLES = 100;

	@Test
	void aHundredStartStopCyclesLeakNoThreadAndNoConnection() throws Exception {
		String url = TestDatabase.create();
		// other test classes' cached contexts run their own relays: compare with those
		Set<Thread> before = Thread.getAllStackTraces().keySet();
		for (int cycle = 0; cycle < CYCLES; cycle++) {
			try (ConfigurableApplicationContext context = new SpringApplicationBuilder(App.class)
				.properties("spring.datasource.url=" + url, TestApplications.SQL_INIT, TestApplications.MEMBER_SCHEMA,
						"spring.main.banner-mode=off", "events.dispatch.mode=" + ((cycle % 2 == 0) ? "sync" : "async"),
						"logging.level.root=warn")
				.run()) {
				context.getBean(TransactionTemplate.class)
					.executeWithoutResult((status) -> context.getBean(JdbcTemplate.class)
						.update("INSERT INTO member (name, email) VALUES ('c', 'c')"));
			}
		}

		List<Thread> started = Thread.getAllStackTraces()
			.keySet()
			.stream()
			.filter((thread) -> !before.contains(thread))
			.filter((thread) -> thread.getName().startsWith("events-") || thread.getName().startsWith("HikariPool"))
			.toList();
		for (Thread thread : started) {
			// a pool closed in the last cycle may still be finishing its thread: wait for
			// it,
			// boundedly; a leaked thread never ends
			thread.join(TimeUnit.SECONDS.toMillis(10));
		}
		assertThat(started).filteredOn(Thread::isAlive).extracting(Thread::getName).isEmpty();
		try (Connection admin = DriverManager.getConnection(url);
				Statement statement = admin.createStatement();
				ResultSet rs = statement.executeQuery("SELECT count(*) FROM pg_stat_activity "
						+ "WHERE datname = current_database() AND pid <> pg_backend_pid()")) {
			rs.next();
			assertThat(rs.getInt(1)).isZero();
		}
	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	@Import(MultiInstanceTests.WelcomeSubscriber.class)
	static class App {

	}

}
