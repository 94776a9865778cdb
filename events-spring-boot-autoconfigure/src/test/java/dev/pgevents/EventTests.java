package dev.pgevents;

import java.time.Instant;
import java.util.Map;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class EventTests {

	@Test
	void anEventMatchesItsNameAndThePatternsThatStandForIt() {
		Event created = event("billing.invoice.created");
		assertThat(created.matches("billing.invoice.created")).isTrue();
		assertThat(created.matches("billing.invoice.*")).isTrue();
		assertThat(created.matches("*.created")).isTrue();
		assertThat(created.matches("invoice.created")).isFalse();
		assertThat(created.matches("invoice.*")).isFalse();
		assertThat(created.matches("*.deleted")).isFalse();
		// as in @EventSubscriber, table.* stands for the row events only
		assertThat(event("member.truncated").matches("member.*")).isFalse();
		assertThat(event("member.truncated").matches("*.truncated")).isTrue();
	}

	private static Event event(String name) {
		return new Event("1", name, Instant.EPOCH, null, new EventTarget("1", "T", Map.of(), null));
	}

}
