package dev.pgevents.samples.members;

import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;

import dev.pgevents.test.RecordedEvents;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.transaction.annotation.Transactional;

import static org.assertj.core.api.Assertions.assertThat;

@SpringBootTest
class MemberEventsTests {

	@Autowired
	MemberController members;

	@Autowired
	RecordedEvents recordedEvents;

	@Test
	void registeringAMemberIsAMemberCreatedEvent() {
		this.members.create(Map.of("name", "Ada", "email", "ada@example.com"));

		assertThat(this.recordedEvents).contains("member.created")
			.singleElement()
			.hasType("Member")
			.hasData("email", "ada@example.com");
		assertThat(this.recordedEvents).doesNotContain("member.deleted");
	}

	@Test
	void anUpdateCarriesTheRowBefore() {
		Object id = this.members.create(Map.of("name", "Grace", "email", "grace@example.com")).get("id");
		this.members.update((UUID) id, Map.of("email", "grace@hopper.dev"));

		assertThat(this.recordedEvents).containsExactly("member.created", "member.updated");
		assertThat(this.recordedEvents).contains("member.updated")
			.singleElement()
			.hasTargetId(id)
			.hasPreviousData("email", "grace@example.com")
			.hasData("email", "grace@hopper.dev");
	}

	@Test
	@Transactional // rolled back at the end: its writes are no events until committed
	void aTransactionalTestCommitsToSeeItsEvents() {
		this.members.create(Map.of("name", "Linus", "email", "linus@example.com"));
		this.recordedEvents.commitTestTransaction();

		assertThat(this.recordedEvents).contains("member.created").matching("name", "Linus");
	}

}
