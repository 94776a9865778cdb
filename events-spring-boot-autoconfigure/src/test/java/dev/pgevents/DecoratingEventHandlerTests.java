package dev.pgevents;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An application {@link EventHandler} decorates the default one: it sees every call,
 * forwards one subscriber's events elsewhere and hands the others to
 * {@link SubscriberMethods}.
 */
@WithTestDatabase
@SpringBootTest(classes = DecoratingEventHandlerTests.App.class,
		properties = { TestApplications.SQL_INIT, TestApplications.MEMBER_SCHEMA })
class DecoratingEventHandlerTests {

	@Autowired
	JdbcTemplate jdbc;

	@Autowired
	TransactionTemplate transactions;

	@Autowired
	App app;

	@Test
	void theApplicationsHandlerDelegatesToTheSubscriberMethods() {
		this.transactions.executeWithoutResult(
				(status) -> this.jdbc.update("INSERT INTO member (name, email) VALUES ('Deco', 'd@example.com')"));

		assertThat(this.app.seen).containsExactlyInAnyOrder("verifyEmail", "memberHistory");
		assertThat(this.app.forwarded).containsExactly("memberHistory");
		assertThat(this.app.subscriberCalls).containsExactly("verifyEmail");
	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class App {

		final List<String> seen = new CopyOnWriteArrayList<>();

		final List<String> forwarded = new CopyOnWriteArrayList<>();

		final List<String> subscriberCalls = new CopyOnWriteArrayList<>();

		@Bean
		EventHandler decoratingHandler(SubscriberMethods methods) {
			return (subscriber, event, traceparent) -> {
				this.seen.add(subscriber);
				if (subscriber.equals("memberHistory")) {
					this.forwarded.add(subscriber);
				}
				else {
					methods.handle(subscriber, event, traceparent);
				}
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
