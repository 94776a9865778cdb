package dev.pgevents.samples.members;

import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;

import dev.pgevents.test.EventScenario;
import dev.pgevents.test.RecordedEvents;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.simple.JdbcClient;

import static org.assertj.core.api.Assertions.assertThat;

@SpringBootTest(properties = "events.dispatch.mode=async")
class AsyncMemberEventsTests {

	@Autowired
	MemberController members;

	@Autowired
	EventScenario scenario;

	@Autowired
	RecordedEvents recordedEvents;

	@Autowired
	JdbcClient jdbc;

	@Test
	void aNewMemberGetsAWelcomeEmail() {
		this.scenario.stimulate(() -> this.members.create(Map.of("name", "Ada", "email", "ada@example.com")))
			.andWaitForDelivery("verifyEmail")
			.toArriveAndVerify(
					(event) -> assertThat(this.jdbc.sql("SELECT address FROM welcome_email WHERE member_id = ?::uuid")
						.param(event.target().id())
						.query(String.class)
						.single()).isEqualTo("ada@example.com"));
	}

	@Test
	void everyChangeIsDeliveredBeforeTheTestLooks() {
		Object id = this.members.create(Map.of("name", "Grace", "email", "grace@example.com")).get("id");
		this.members.update((UUID) id, Map.of("name", "Grace Hopper"));

		this.recordedEvents.awaitQuiet(Duration.ofSeconds(10));

		assertThat(this.jdbc.sql("SELECT event_name FROM member_history WHERE member_id = ?")
			.param(id)
			.query(String.class)
			.list()).containsExactly("member.updated");
	}

}
