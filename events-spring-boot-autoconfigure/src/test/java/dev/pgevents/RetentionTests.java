package dev.pgevents;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import javax.sql.DataSource;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.core.io.ClassPathResource;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DriverManagerDataSource;
import org.springframework.jdbc.datasource.init.ResourceDatabasePopulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code events.retention} deletes processed rows past it, with their ledger entries, on
 * a thread of its own: what it keeps, that the relay delivers while it deletes a large
 * backlog, and that a pass with nothing due reads a window of rows, not the table.
 */
class RetentionTests {

	String url;

	JdbcTemplate jdbc;

	@BeforeEach
	void database() {
		this.url = TestDatabase.create();
		DataSource dataSource = new DriverManagerDataSource(this.url);
		new ResourceDatabasePopulator(new ClassPathResource("member-schema.sql")).execute(dataSource);
		this.jdbc = new JdbcTemplate(dataSource);
		DeliveredMembers.createTable(this.jdbc);
	}

	@Test
	void processedRowsPastTheRetentionGoWithTheirEntriesAndRowsWithUnfinishedDeliveriesStay() {
		try (ConfigurableApplicationContext context = start()) {
			long plain = row("now() - interval '1 day'");
			long delivered = row("now() - interval '1 day'");
			entry(delivered, "delivered");
			long dead = row("now() - interval '1 day'");
			entry(dead, "dead");
			long pending = row("now() - interval '1 day'");
			entry(pending, "pending");
			long young = row("now() + interval '1 hour'");

			await().atMost(Duration.ofSeconds(30))
				.until(() -> ids("keel_audit").stream().noneMatch((id) -> id == plain || id == delivered));
			assertThat(ids("keel_audit")).contains(dead, pending, young);
			assertThat(ids("keel_audit_delivery")).containsExactlyInAnyOrder(dead, pending);
		}
	}

	@Test
	void outsideWritesAreDeliveredWhileALargeBacklogIsDeleted() throws Exception {
		int due = 300_000;
		try (ConfigurableApplicationContext context = start()) {
			this.jdbc.update("""
					INSERT INTO keel_audit (table_name, op, data, created_at, event_processed_at)
					SELECT 'member', 'created', jsonb_build_object('id', g), now() - interval '1 day', now()
					FROM generate_series(1, ?) g
					""", due);
			await().atMost(Duration.ofSeconds(60)).until(() -> oldRows() < due);
			try (Connection other = DriverManager.getConnection(this.url);
					Statement statement = other.createStatement()) {
				statement
					.execute("INSERT INTO member (id, name, email) VALUES ('" + UUID.randomUUID() + "', 'o', 'o')");
			}
			await().atMost(Duration.ofSeconds(30))
				.until(() -> DeliveredMembers.count(this.jdbc, "SELECT count(*) FROM delivered") == 1);
			assertThat(oldRows()).as("rows still to delete when the write was delivered").isPositive();
		}
	}

	@Test
	void aPassWithNothingDueReadsAWindowOfRowsNotTheTable() {
		try (ConfigurableApplicationContext context = start()) {
			this.jdbc.update("""
					INSERT INTO keel_audit (table_name, op, data, created_at, event_processed_at)
					SELECT 'member', 'created', jsonb_build_object('id', g), now() + interval '1 day', now()
					FROM generate_series(1, 200000) g
					""");
			this.jdbc.execute("VACUUM ANALYZE keel_audit");
			Map<String, Object> before = tuplesRead();
			// passes every 2 s: a few of them
			await().pollDelay(Duration.ofSeconds(7)).until(() -> true);
			Map<String, Object> after = tuplesRead();
			assertThat((Long) after.get("seq") - (Long) before.get("seq")).as("tuples read by sequential scans")
				.isZero();
			assertThat((Long) after.get("idx") - (Long) before.get("idx")).as("tuples fetched through indexes")
				.isLessThan(1000);
		}
	}

	private ConfigurableApplicationContext start() {
		return new SpringApplicationBuilder(App.class).web(WebApplicationType.NONE)
			.properties("spring.datasource.url=" + this.url, "events.retention=2s", "events.relay.poll-interval=200ms",
					"spring.main.banner-mode=off")
			.run();
	}

	private long row(String createdAt) {
		Long id = this.jdbc.queryForObject(
				"INSERT INTO keel_audit (table_name, op, data, created_at, "
						+ "event_processed_at) VALUES ('note', 'created', '{}', " + createdAt + ", now()) RETURNING id",
				Long.class);
		return (id != null) ? id : -1;
	}

	private void entry(long auditId, String status) {
		this.jdbc.update("INSERT INTO keel_audit_delivery (audit_id, subscriber, status, next_attempt_at) "
				+ "VALUES (?, 'elsewhere', ?, now() + interval '1 hour')", auditId, status);
	}

	private List<Long> ids(String table) {
		return this.jdbc.queryForList(
				"SELECT " + (table.equals("keel_audit") ? "id" : "audit_id") + " FROM " + table + " ORDER BY 1",
				Long.class);
	}

	private long oldRows() {
		return DeliveredMembers.count(this.jdbc,
				"SELECT count(*) FROM keel_audit WHERE created_at < now() - interval '1 hour'");
	}

	private Map<String, Object> tuplesRead() {
		this.jdbc.execute("SELECT pg_stat_clear_snapshot()");
		return this.jdbc.queryForMap("SELECT coalesce(seq_tup_read, 0) AS seq, coalesce(idx_tup_fetch, 0) AS idx "
				+ "FROM pg_stat_user_tables WHERE relname = 'keel_audit'");
	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class App {

		@Bean
		DeliveredMembers deliveredMembers(JdbcTemplate jdbc) {
			return new DeliveredMembers(jdbc);
		}

	}

}
