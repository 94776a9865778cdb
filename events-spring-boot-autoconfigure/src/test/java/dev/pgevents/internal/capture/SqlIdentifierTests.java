package dev.pgevents.internal.capture;

import org.junit.jupiter.api.Test;

import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

class SqlIdentifierTests {

	@Test
	void aNameIsQualifiedWithTheDefaultSchemaUnlessItHasOne() {
		assertThat(SqlIdentifier.parse("p", "keel_audit").qualified("public")).isEqualTo("\"public\".\"keel_audit\"");
		assertThat(SqlIdentifier.parse("p", "audit.keel_audit").qualified("public"))
			.isEqualTo("\"audit\".\"keel_audit\"");
		assertThat(SqlIdentifier.parse("p", "audit.keel_audit").withSuffix("_delivery"))
			.hasToString("audit.keel_audit_delivery");
	}

	@Test
	void anythingButALowerCaseIdentifierIsRefusedNamingTheProperty() {
		for (String value : new String[] { "Keel", "1audit", "a.b.c", "keel audit", "x\"; DROP TABLE y; --", "",
				"a".repeat(64) }) {
			assertThatExceptionOfType(InvalidConfigurationPropertyValueException.class)
				.isThrownBy(() -> SqlIdentifier.parse("events.audit.table-name", value))
				.satisfies((ex) -> assertThat(ex.getName()).isEqualTo("events.audit.table-name"));
		}
	}

	@Test
	void quotesAreDoubled() {
		assertThat(SqlIdentifier.quote("a\"b")).isEqualTo("\"a\"\"b\"");
	}

}
