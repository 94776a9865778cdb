package dev.pgevents.internal.dispatch;

import java.lang.reflect.Method;

import org.jspecify.annotations.Nullable;
import reactor.core.Exceptions;
import reactor.core.publisher.Mono;

import org.springframework.core.CoroutinesUtils;
import org.springframework.util.ClassUtils;

/**
 * Calls a Kotlin suspend function as a subscriber: with Spring's {@link CoroutinesUtils},
 * and waits for it, so that it is delivered, retried and recorded as a plain method.
 */
final class Coroutines {

	private Coroutines() {
	}

	/**
	 * Whether suspend functions can be called: Spring calls them through
	 * kotlinx-coroutines-reactor and kotlin-reflect.
	 * @return whether both are on the classpath
	 */
	static boolean available() {
		ClassLoader loader = Coroutines.class.getClassLoader();
		return ClassUtils.isPresent("kotlinx.coroutines.reactor.MonoKt", loader)
				&& ClassUtils.isPresent("kotlin.reflect.full.KClasses", loader);
	}

	/**
	 * Call a suspend function and wait until it returns.
	 * @param method the function
	 * @param bean its bean
	 * @param args its arguments, without the continuation
	 * @throws Exception what it threw
	 */
	static void call(Method method, Object bean, @Nullable Object[] args) throws Exception {
		try {
			Mono.from(CoroutinesUtils.invokeSuspendingFunction(method, bean, args)).block();
		}
		catch (RuntimeException ex) {
			Throwable thrown = Exceptions.unwrap(ex);
			if (thrown instanceof Exception exception) {
				throw exception;
			}
			if (thrown instanceof Error error) {
				throw error;
			}
			throw ex;
		}
	}

}
