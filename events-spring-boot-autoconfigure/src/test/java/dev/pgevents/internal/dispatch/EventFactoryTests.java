package dev.pgevents.internal.dispatch;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.pgevents.Event;
import dev.pgevents.internal.capture.AuditedTable;
import dev.pgevents.internal.support.StartupFailure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.entry;

class EventFactoryTests {

	private final EventFactory events = new EventFactory(List.of(
			new AuditedTable("member_profile", "\"public\".\"member_profile\"", List.of("member_id", "kind"),
					List.of("member_id", "kind", "bio_text")),
			new AuditedTable("price", "\"public\".\"price\"", List.of("id"), List.of("id", "amount", "units"))));

	@Test
	void namesTypesAndKeysFollowKeel() {
		Event event = this.events.toEvent(
				row("member_profile", "updated", "{\"member_id\": \"m1\", \"kind\": \"short\", \"bio_text\": \"new\"}",
						"{\"member_id\": \"m1\", \"kind\": \"short\", \"bio_text\": \"old\"}"));

		assertThat(event.id()).isEqualTo("7");
		assertThat(event.eventName()).isEqualTo("member_profile.updated");
		assertThat(event.target().type()).isEqualTo("MemberProfile");
		assertThat(event.target().id()).isEqualTo("m1,short");
		assertThat(event.target().data()).containsExactly(entry("memberId", "m1"), entry("kind", "short"),
				entry("bioText", "new"));
		assertThat(event.target().previousData()).containsEntry("bioText", "old");
	}

	@Test
	void aDeletedRowIsItsOwnPreviousDataAndACreatedOneHasNone() {
		assertThat(this.events.toEvent(row("price", "deleted", "{\"id\": 1}", null)).target().previousData())
			.containsEntry("id", 1);
		assertThat(this.events.toEvent(row("price", "created", "{\"id\": 1}", null)).target().previousData()).isNull();
	}

	@Test
	void numbersKeepEveryDigit() {
		Event event = this.events.toEvent(row("price", "created",
				"{\"id\": 1, \"amount\": 12345678901234567.89, \"units\": 123456789012345678901234567890}", null));
		assertThat(event.target().data()).containsEntry("amount", new BigDecimal("12345678901234567.89"))
			.containsEntry("units", new BigInteger("123456789012345678901234567890"));
	}

	@Test
	void columnsThatBecomeTheSameKeyAreRefused() {
		assertThatExceptionOfType(StartupFailure.class)
			.isThrownBy(() -> new EventFactory(List.of(new AuditedTable("t", "\"public\".\"t\"", List.of("id"),
					List.of("id", "created_at", "createdAt")))))
			.withMessageContaining("\"created_at\" and \"createdAt\"");
	}

	@Test
	void snakeCaseBecomesCamelCase() {
		assertThat(EventFactory.toLowerCamel("created_at")).isEqualTo("createdAt");
		assertThat(EventFactory.toLowerCamel("_leading__double_")).isEqualTo("leadingDouble");
		assertThat(EventFactory.toUpperCamel("member_profile")).isEqualTo("MemberProfile");
	}

	private static AuditRow row(String table, String op, String data, String previousData) {
		return new AuditRow(7, table, op, data, previousData, null, null, null, Instant.EPOCH, null, 0);
	}

}
