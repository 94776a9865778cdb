package dev.pgevents;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DriverManagerDataSource;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A pool whose connections are not in autocommit (Hikari's {@code auto-commit=false}, as
 * JPA applications often configure it): the starter's own work still commits. Its
 * outcomes, registrations and beats are written on such connections; were they left
 * uncommitted, the pool would roll them back, and every change would wait for the relay's
 * takeover after the lease, and be delivered twice.
 */
class NonAutoCommitPoolTests {

	@ParameterizedTest(name = "{0} dispatch")
	@ValueSource(strings = { "sync", "async" })
	void everyChangeIsMarkedOnceWithinTheLeaseAndTheRegistrationsCommit(String mode) throws Exception {
		String url = TestDatabase.create();
		try (ConfigurableApplicationContext app = new SpringApplicationBuilder(App.class)
			.properties("spring.datasource.url=" + url, "spring.datasource.hikari.auto-commit=false",
					TestApplications.SQL_INIT, TestApplications.MEMBER_SCHEMA, "spring.main.banner-mode=off",
					"events.dispatch.mode=" + mode, "events.relay.lease=2m")
			.run()) {
			TransactionTemplate transactions = app.getBean(TransactionTemplate.class);
			JdbcTemplate jdbc = app.getBean(JdbcTemplate.class);
			for (int i = 0; i < 20; i++) {
				int n = i;
				transactions.executeWithoutResult((status) -> jdbc
					.update("INSERT INTO member (name, email) VALUES (?, 'in-app@example.com')", "app" + n));
			}
			try (Connection outside = DriverManager.getConnection(url);
					Statement statement = outside.createStatement()) {
				statement.execute("INSERT INTO member (name, email) SELECT 'outside' || i, 'o@example.com' "
						+ "FROM generate_series(1, 5) i");
			}

			JdbcTemplate admin = new JdbcTemplate(new DriverManagerDataSource(url));
			// well within the lease: the marks committed, no relay took the rows over
			await().atMost(Duration.ofSeconds(30))
				.until(() -> admin.queryForObject("SELECT count(*) FROM keel_audit WHERE event_processed_at IS NULL",
						Long.class) == 0);
			Received received = app.getBean(Received.class);
			assertThat(received.names).hasSize(25);
			assertThat(received.names.values()).allMatch((count) -> count == 1);
			assertThat(admin.queryForList("SELECT name FROM keel_audit_subscriber", String.class))
				.containsExactly("received");
			assertThat(admin.queryForObject("SELECT count(*) FROM keel_audit_instance", Long.class)).isOne();
		}
	}

	static class Received {

		final Map<String, Integer> names = new ConcurrentHashMap<>();

		@EventSubscriber(value = "member.created", name = "received")
		void onCreated(Event event) {
			this.names.merge((String) event.target().data().get("name"), 1, Integer::sum);
		}

	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class App {

		@Bean
		Received received() {
			return new Received();
		}

	}

}
