package dev.pgevents;

import java.time.Instant;
import java.util.Map;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

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

	@Test
	void anEventNamesItsTableAndOperationWhichTheJsonLeavesOut() {
		Event created = event("billing.invoice.created");
		assertThat(created.table()).isEqualTo("billing.invoice");
		assertThat(created.operation()).isEqualTo(Event.Operation.CREATED);
		assertThat(event("member.truncated").operation()).isEqualTo(Event.Operation.TRUNCATED);
		assertThat(event("member_profile.snapshot").table()).isEqualTo("member_profile");
		assertThat(event("member_profile.snapshot").operation().suffix()).isEqualTo(Event.SNAPSHOT);
		assertThat(JsonMapper.builder().build().writeValueAsString(created)).isEqualTo(
				"{\"id\":\"1\",\"eventName\":\"billing.invoice.created\",\"occurredAt\":\"1970-01-01T00:00:00Z\","
						+ "\"identityId\":null,\"target\":{\"id\":\"1\",\"type\":\"T\",\"data\":{},"
						+ "\"previousData\":null,\"changedFields\":[]}}");
	}

	@Test
	void aTraceIsItsTraceparent() {
		Trace trace = new Trace("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7");
		assertThat(trace.traceparent()).isEqualTo("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
	}

	private static Event event(String name) {
		return new Event("1", name, Instant.EPOCH, null, new EventTarget("1", "T", Map.of(), null));
	}

}
