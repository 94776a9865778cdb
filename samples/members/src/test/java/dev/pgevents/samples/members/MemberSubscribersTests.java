package dev.pgevents.samples.members;

import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.pgevents.Event;
import dev.pgevents.test.TestEvents;

import static org.assertj.core.api.Assertions.assertThat;

class MemberSubscribersTests {

	@Test
	void anUpdatesChangesAreTheFieldsThatDiffer() {
		Event updated = TestEvents.updated("member", Map.of("id", 7, "name", "Ada", "email", "ada@example.com"),
				Map.of("id", 7, "name", "Ada", "email", "ada@lovelace.dev"));

		assertThat(MemberSubscribers.changes(updated))
			.isEqualTo(Map.of("email", Map.of("from", "ada@example.com", "to", "ada@lovelace.dev")));
	}

	@Test
	void aDeletesChangesAreTheRowAsItWas() {
		Event deleted = TestEvents.deleted("member", Map.of("id", 7, "name", "Ada"));

		assertThat(MemberSubscribers.changes(deleted)).isEqualTo(Map.of("id", 7, "name", "Ada"));
	}

}
