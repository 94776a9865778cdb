package dev.pgevents.autoconfigure;

import org.jspecify.annotations.Nullable;

import dev.pgevents.Delivery;
import dev.pgevents.Event;
import dev.pgevents.EventTarget;
import dev.pgevents.Trace;

import org.springframework.aot.hint.BindingReflectionHintsRegistrar;
import org.springframework.aot.hint.MemberCategory;
import org.springframework.aot.hint.RuntimeHints;
import org.springframework.aot.hint.RuntimeHintsRegistrar;
import org.springframework.aot.hint.TypeReference;

/**
 * What the starter loads and reflects on, for AOT-processed applications and native
 * images: the shipped SQL and Liquibase changelog, the events as Jackson and SpEL
 * conditions read them, and the property a JPA transaction manager names its DataSource
 * by. Subscriber methods and their parameter types are registered by
 * {@code @EventSubscriber} itself.
 */
final class EventsRuntimeHints implements RuntimeHintsRegistrar {

	@Override
	public void registerHints(RuntimeHints hints, @Nullable ClassLoader classLoader) {
		hints.resources().registerPattern("dev/pgevents/capture/*.sql");
		hints.resources().registerPattern("dev/pgevents/liquibase/*.yaml");
		new BindingReflectionHintsRegistrar().registerReflectionHints(hints.reflection(), Event.class,
				EventTarget.class, Trace.class, Delivery.class);
		// TransactionContextPostProcessor reads its "dataSource" property
		hints.reflection()
			.registerType(TypeReference.of("org.springframework.orm.jpa.JpaTransactionManager"),
					MemberCategory.INVOKE_PUBLIC_METHODS);
	}

}
