package dev.pgevents.samples.members;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.pgevents.EventDeliveries;
import dev.pgevents.samples.membercopy.MemberCopy;
import dev.pgevents.samples.membercopy.MemberCopyApplication;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The members service with the {@code forward} profile and another service,
 * {@link MemberCopyApplication}, that keeps a copy of {@code member} from the topic:
 * after writes, updates and deletes, and a backfill of the rows that were there before
 * any event, the copy equals the table.
 */
class ForwardedCopyTests {

	EmbeddedKafkaKraftBroker broker;

	ConfigurableApplicationContext members;

	ConfigurableApplicationContext copy;

	@BeforeEach
	void start() {
		this.broker = new EmbeddedKafkaKraftBroker(1, 2, "members");
		this.broker.afterPropertiesSet();
		String kafka = "--spring.kafka.bootstrap-servers=" + this.broker.getBrokersAsString();
		this.members = new SpringApplicationBuilder(MembersApplication.class).profiles("forward")
			.run(kafka, "--server.port=0", "--events.relay.poll-interval=200ms");
		this.copy = new SpringApplicationBuilder(MemberCopyApplication.class).profiles("copy")
			.run(kafka, "--server.port=0", "--spring.main.web-application-type=none");
	}

	@AfterEach
	void stop() {
		if (this.copy != null) {
			this.copy.close();
		}
		if (this.members != null) {
			this.members.close();
		}
		this.broker.destroy();
	}

	@Test
	void theCopyEqualsTheTableAfterWritesUpdatesDeletesAndABackfill() {
		JdbcTemplate jdbc = this.members.getBean(JdbcTemplate.class);
		TransactionTemplate transactions = this.members.getBean(TransactionTemplate.class);
		// members from before the events: no event was ever sent for them
		jdbc.execute("ALTER TABLE member DISABLE TRIGGER USER");
		jdbc.update("INSERT INTO member (name, email) SELECT 'old ' || i, 'old' || i || '@example.com' "
				+ "FROM generate_series(1, 50) i");
		jdbc.execute("ALTER TABLE member ENABLE TRIGGER USER");
		for (int i = 0; i < 30; i++) {
			int n = i;
			transactions.executeWithoutResult((status) -> jdbc.update("INSERT INTO member (name, email) VALUES (?, ?)",
					"new " + n, "new" + n + "@example.com"));
		}
		jdbc.update("UPDATE member SET email = 'changed-' || email WHERE name LIKE '% 1%'");
		jdbc.update("DELETE FROM member WHERE name LIKE '% 2%'");
		long queued = this.members.getBean(EventDeliveries.class).backfill("kafka:members", "member");
		assertThat(queued).isEqualTo(jdbc.queryForObject("SELECT count(*) FROM member", Long.class));

		MemberCopy copy = this.copy.getBean(MemberCopy.class);
		await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(copy.rows()).isEqualTo(table(jdbc)));
	}

	private static Map<String, Map<String, Object>> table(JdbcTemplate jdbc) {
		Map<String, Map<String, Object>> rows = new HashMap<>();
		List<Map<String, Object>> members = jdbc.queryForList(
				"SELECT id::text AS id, name, email, to_jsonb(created_at) #>> '{}' AS created_at FROM member");
		for (Map<String, Object> member : members) {
			rows.put((String) member.get("id"), Map.of("id", member.get("id"), "name", member.get("name"), "email",
					member.get("email"), "createdAt", member.get("created_at")));
		}
		return rows;
	}

}
