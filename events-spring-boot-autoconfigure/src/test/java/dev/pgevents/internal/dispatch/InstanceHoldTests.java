package dev.pgevents.internal.dispatch;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.UUID;

import org.junit.jupiter.api.Test;

import dev.pgevents.internal.capture.AuditSchema;

import org.springframework.jdbc.datasource.DriverManagerDataSource;

import static org.assertj.core.api.Assertions.assertThat;

class InstanceHoldTests {

	private final DriverManagerDataSource unused = new DriverManagerDataSource("jdbc:postgresql://unused/unused");

	private static final Duration LEASE = Duration.ofSeconds(30);

	private final AuditSchema schema = AuditSchema.of("public.keel_audit", "public");

	@Test
	void theScopesOfAnInstanceThatHoldsThemStartWithItsId() {
		InstanceHold instance = new InstanceHold(this.unused, this.schema, true, LEASE);
		UUID first = instance.newScope();
		UUID second = instance.newScope();
		assertThat(first).isNotEqualTo(second);
		assertThat(first.getMostSignificantBits()).isEqualTo(id(instance));
		assertThat(second.getMostSignificantBits()).isEqualTo(id(instance));
		assertThat(new InstanceHold(this.unused, this.schema, true, LEASE).newScope().getMostSignificantBits())
			.isNotEqualTo(id(instance));
	}

	@Test
	void anInstanceWithoutARelayHoldsItsScopesTooAndKeepsThoseItGivesUpForItsNextBeat() {
		InstanceHold instance = new InstanceHold(this.unused, this.schema, false, LEASE);
		UUID scope = instance.newScope();
		assertThat(scope.getMostSignificantBits()).isEqualTo(id(instance));
		instance.giveUp(scope);
		assertThat(instance.givenUp()).containsExactly(scope);
	}

	@Test
	void givenUpScopesAreKeptUpToABoundThenEveryScopeIsGivenUp() {
		InstanceHold instance = new InstanceHold(this.unused, this.schema, true, LEASE);
		for (int i = 0; i < 10_000; i++) {
			instance.giveUp(instance.newScope());
		}
		assertThat(instance.gaveUpAll()).isFalse();
		instance.giveUp(instance.newScope());
		assertThat(instance.givenUp()).hasSize(10_000);
		assertThat(instance.gaveUpAll()).isTrue();
	}

	private static long id(InstanceHold instance) {
		return ByteBuffer.wrap(instance.key()).getLong();
	}

}
