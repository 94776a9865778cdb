package dev.pgevents.test;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;

import dev.pgevents.Event;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * {@link TestEvents}, without Spring or a database (their equality with the library's own
 * events is shown in {@link RecordedEventsTests}).
 */
class TestEventsTests {

	@Test
	void aCreatedRowHasKeelsNames() {
		UUID id = UUID.randomUUID();
		Event event = TestEvents.created("member_profile",
				Map.of("id", id, "display_name", "Ada", "created_at", Instant.parse("2026-01-02T03:04:05Z")));

		assertThat(event.eventName()).isEqualTo("member_profile.created");
		assertThat(event.target().type()).isEqualTo("MemberProfile");
		assertThat(event.target().id()).isEqualTo(id.toString());
		assertThat(event.target().data()).containsOnly(Map.entry("id", id.toString()), Map.entry("displayName", "Ada"),
				Map.entry("createdAt", "2026-01-02T03:04:05Z"));
		assertThat(event.target().previousData()).isNull();
		assertThat(event.identityId()).isNull();
		assertThat(Long.parseLong(event.id())).isPositive();
	}

	@Test
	void valuesArriveAsTheRowsJsonHoldsThem() {
		Event event = TestEvents.created("price",
				Map.of("id", 1, "amount", new BigDecimal("12.30"), "ratio", 0.5, "units", 1L << 40, "paid", true));

		assertThat(event.target().data()).containsOnly(Map.entry("id", 1), Map.entry("amount", new BigDecimal("12.30")),
				Map.entry("ratio", new BigDecimal("0.5")), Map.entry("units", 1L << 40), Map.entry("paid", true));
	}

	@Test
	void anUpdateAndADeleteCarryTheRowBefore() {
		Event updated = TestEvents.updated("member", Map.of("id", 7, "email", "old"), Map.of("id", 7, "email", "new"));
		Event deleted = TestEvents.deleted("member", Map.of("id", 7, "email", "new"));

		assertThat(updated.eventName()).isEqualTo("member.updated");
		assertThat(updated.target().data()).containsEntry("email", "new");
		assertThat(updated.target().previousData()).containsEntry("email", "old");
		assertThat(deleted.eventName()).isEqualTo("member.deleted");
		assertThat(deleted.target().previousData()).isEqualTo(deleted.target().data());
		assertThat(updated.id()).isNotEqualTo(deleted.id());
	}

	@Test
	void aCompositeKeyJoinsItsValues() {
		Instant at = Instant.parse("2026-05-06T07:08:09Z");
		Event event = TestEvents.table("order_line")
			.key("order_id", "line_no")
			.identity("alice")
			.occurredAt(at)
			.created(Map.of("order_id", 12, "line_no", 3, "qty", 1));

		assertThat(event.target().id()).isEqualTo("12,3");
		assertThat(event.identityId()).isEqualTo("alice");
		assertThat(event.occurredAt()).isEqualTo(at);
	}

	@Test
	void aTruncateIsAnEventAboutNoRow() {
		Event event = TestEvents.truncated("member");

		assertThat(event.eventName()).isEqualTo("member.truncated");
		assertThat(event.target().id()).isEmpty();
		assertThat(event.target().type()).isEqualTo("Member");
		assertThat(event.target().data()).isEmpty();
		assertThat(event.target().previousData()).isNull();
		assertThat(event.target().changedFields()).isEmpty();
	}

	@Test
	void aRowWithoutItsKeyIsRefused() {
		assertThatIllegalArgumentException().isThrownBy(() -> TestEvents.created("order_line", Map.of("qty", 1)))
			.withMessage("The row of 'order_line' has no key column 'id' (its columns: [qty]); give the row its key, "
					+ "or name the key columns with TestEvents.table(\"order_line\").key(...)");
	}

	@Test
	void eventAssertComparesValuesByMeaning() {
		UUID id = UUID.randomUUID();
		Event event = TestEvents.created("member", Map.of("id", id, "age", 42, "score", new BigDecimal("1.50")));

		EventAssert.assertThat(event)
			.hasTargetId(id)
			.hasData("id", id)
			.hasData("age", 42L)
			.hasData("score", 1.5)
			.hasType("Member");
	}

}
