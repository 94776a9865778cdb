package dev.pgevents;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An application {@link EventHandler} receives every (subscriber, event) pair in place of
 * the subscriber methods, like Keel's handler that forwards to a queue; the event
 * serializes to Keel's JSON plus its id.
 */
@WithTestDatabase
@SpringBootTest(classes = CustomEventHandlerTests.App.class,
		properties = { TestApplications.SQL_INIT, TestApplications.MEMBER_SCHEMA })
class CustomEventHandlerTests {

	@Autowired
	JdbcTemplate jdbc;

	@Autowired
	TransactionTemplate transactions;

	@Autowired
	App app;

	@Test
	void theApplicationsHandlerReplacesTheSubscriberMethods() {
		this.transactions.executeWithoutResult((status) -> this.jdbc
			.update("INSERT INTO member (id, name, email, created_at) VALUES "
					+ "('0b6f3d0c-2b6f-4a3e-9a43-3f2f0d3c9e11', 'Queue', 'q@example.com', '2026-01-02T03:04:05Z')"));

		assertThat(this.app.forwarded).containsExactlyInAnyOrder("verifyEmail", "memberHistory");
		assertThat(this.app.subscriberCalls).isEmpty();
		assertThat(this.app.json.get(0))
			.matches("\\{\"id\":\"\\d+\",\"eventName\":\"member.created\",\"occurredAt\":\"[^\"]+\","
					+ "\"identityId\":null,\"target\":\\{\"id\":\"0b6f3d0c-2b6f-4a3e-9a43-3f2f0d3c9e11\",\"type\":\"Member\","
					+ "\"data\":\\{\"id\":\"0b6f3d0c-2b6f-4a3e-9a43-3f2f0d3c9e11\",\"name\":\"Queue\",\"email\":\"q@example.com\","
					+ "\"createdAt\":\"2026-01-02T03:04:05\\+00:00\"\\},\"previousData\":null,\"changedFields\":\\[\\]\\}\\}");
	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class App {

		final List<String> forwarded = new CopyOnWriteArrayList<>();

		final List<String> json = new CopyOnWriteArrayList<>();

		final List<String> subscriberCalls = new CopyOnWriteArrayList<>();

		@Bean
		EventHandler queueHandler(JsonMapper jsonMapper) {
			return (subscriber, event, traceparent) -> {
				this.forwarded.add(subscriber);
				this.json.add(jsonMapper.writeValueAsString(event));
			};
		}

		@EventSubscriber("member.created")
		void verifyEmail(Event event) {
			this.subscriberCalls.add("verifyEmail");
		}

		@EventSubscriber(value = { "member.created", "member.deleted" }, name = "memberHistory")
		void history(Event event) {
			this.subscriberCalls.add("memberHistory");
		}

	}

}
