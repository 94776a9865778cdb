package dev.pgevents.internal.dispatch;

import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.stream.Collectors;

import dev.pgevents.internal.support.StartupFailure;

/**
 * An {@code @EventSubscriber} method that cannot work as declared; stops startup.
 */
final class SubscriberDeclarationException extends StartupFailure {

	SubscriberDeclarationException(Method method, String problem) {
		super("@EventSubscriber method " + describe(method) + ": " + problem,
				"Fix the method's declaration: see @EventSubscriber and docs/subscribers.md");
	}

	static String describe(Method method) {
		return method.getDeclaringClass().getName() + "." + method.getName()
				+ Arrays.stream(method.getParameterTypes())
					.map(Class::getSimpleName)
					.collect(Collectors.joining(", ", "(", ")"));
	}

}
