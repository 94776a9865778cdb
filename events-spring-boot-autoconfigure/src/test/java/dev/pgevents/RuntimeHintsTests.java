package dev.pgevents;

import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.pgevents.internal.capture.CaptureScripts;

import org.springframework.aot.hint.RuntimeHints;
import org.springframework.aot.hint.RuntimeHintsRegistrar;
import org.springframework.aot.hint.annotation.ReflectiveRuntimeHintsRegistrar;
import org.springframework.aot.hint.predicate.RuntimeHintsPredicates;
import org.springframework.beans.factory.aot.AotServices;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What an AOT-processed application or a native image needs of the starter is in its
 * runtime hints.
 */
class RuntimeHintsTests {

	private final RuntimeHints hints = new RuntimeHints();

	@Test
	void theShippedScriptsAndTheEventsAreRegistered() {
		AotServices.factories().load(RuntimeHintsRegistrar.class).forEach((registrar) -> {
			registrar.registerHints(this.hints, getClass().getClassLoader());
		});
		for (String script : CaptureScripts.names()) {
			assertThat(RuntimeHintsPredicates.resource().forResource("dev/pgevents/capture/" + script + ".sql"))
				.as(script)
				.accepts(this.hints);
		}
		assertThat(RuntimeHintsPredicates.resource().forResource("dev/pgevents/liquibase/events-schema.yaml"))
			.accepts(this.hints);
		assertThat(RuntimeHintsPredicates.reflection().onMethodInvocation(Event.class, "eventName"))
			.accepts(this.hints);
		assertThat(RuntimeHintsPredicates.reflection().onMethodInvocation(EventTarget.class, "data"))
			.accepts(this.hints);
		assertThat(RuntimeHintsPredicates.reflection().onMethodInvocation(Delivery.class, "lastError"))
			.accepts(this.hints);
	}

	@Test
	void subscriberMethodsAreInvokedAndTheirRowTypesBound() throws NoSuchMethodException {
		new ReflectiveRuntimeHintsRegistrar().registerRuntimeHints(this.hints, Subscribers.class);
		assertThat(RuntimeHintsPredicates.reflection()
			.onMethodInvocation(Subscribers.class.getDeclaredMethod("typed", Member.class, Event.class)))
			.accepts(this.hints);
		assertThat(RuntimeHintsPredicates.reflection().onMethodInvocation(Member.class, "email")).accepts(this.hints);
		assertThat(RuntimeHintsPredicates.reflection()
			.onMethodInvocation(Subscribers.class.getDeclaredMethod("untyped", Map.class))).accepts(this.hints);
		assertThat(RuntimeHintsPredicates.reflection().onMethodInvocation(Subscribers.class, "notASubscriber"))
			.rejects(this.hints);
	}

	record Member(String name, String email) {
	}

	static class Subscribers {

		@EventSubscriber("member.created")
		void typed(Member member, Event event) {
		}

		@EventSubscriber("member.updated")
		void untyped(Map<String, Object> data) {
		}

		void notASubscriber() {
		}

	}

}
