package dev.pgevents.internal.dispatch;

import java.lang.reflect.AnnotatedElement;
import java.lang.reflect.Method;

import dev.pgevents.Event;
import dev.pgevents.EventSubscriber;
import dev.pgevents.EventTarget;

import org.springframework.aot.hint.BindingReflectionHintsRegistrar;
import org.springframework.aot.hint.ExecutableMode;
import org.springframework.aot.hint.ReflectionHints;
import org.springframework.aot.hint.annotation.ReflectiveProcessor;
import org.springframework.core.KotlinDetector;

/**
 * The reflection an {@link EventSubscriber} method needs, found by Spring's AOT
 * processing on every bean: the method is invoked, and its parameter of another type than
 * {@link Event} and {@link EventTarget} is bound from the row's data with Jackson.
 */
public final class EventSubscriberHints implements ReflectiveProcessor {

	private final BindingReflectionHintsRegistrar bindings = new BindingReflectionHintsRegistrar();

	@Override
	public void registerReflectionHints(ReflectionHints hints, AnnotatedElement element) {
		if (element instanceof Method method) {
			hints.registerMethod(method, ExecutableMode.INVOKE);
			Class<?>[] types = method.getParameterTypes();
			// a suspend function's last parameter is its continuation
			int bound = types.length - (KotlinDetector.isSuspendingFunction(method) ? 1 : 0);
			for (int i = 0; i < bound; i++) {
				Class<?> type = types[i];
				if (type != Event.class && type != EventTarget.class) {
					this.bindings.registerReflectionHints(hints, type);
				}
			}
		}
	}

}
