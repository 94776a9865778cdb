package dev.pgevents.internal.dispatch;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;

import javax.sql.DataSource;

import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JavaType;
import tools.jackson.databind.json.JsonMapper;

import dev.pgevents.Event;
import dev.pgevents.EventTarget;
import dev.pgevents.internal.support.StartupFailure;

import org.springframework.aop.support.AopUtils;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.core.KotlinDetector;
import org.springframework.util.ClassUtils;
import org.springframework.util.ReflectionUtils;

/**
 * An {@code @EventSubscriber} method as a subscriber's recipient: the bean, and how to
 * bind its parameters from an event.
 */
final class SubscriberMethod implements Recipient {

	private final Method method;

	private final Supplier<Object> bean;

	private final List<Function<Event, @Nullable Object>> arguments;

	private final Class<?> beanClass;

	/**
	 * Whether it is a Kotlin suspend function, whose last parameter is its continuation.
	 */
	private final boolean suspending;

	private volatile @Nullable Invocable target;

	private volatile @Nullable SubscriberTransaction transaction;

	/**
	 * @param method the method
	 * @param beanClass the class of its bean
	 * @param bean supplies the bean
	 * @param jsonMapper binds data to typed parameters
	 */
	SubscriberMethod(Method method, Class<?> beanClass, Supplier<Object> bean, JsonMapper jsonMapper) {
		this.method = method;
		this.beanClass = beanClass;
		this.bean = bean;
		this.suspending = KotlinDetector.isSuspendingFunction(method);
		if (this.suspending && !Coroutines.available()) {
			throw new SubscriberDeclarationException(method,
					"is a Kotlin suspend function, which needs "
							+ "kotlinx-coroutines-reactor and kotlin-reflect on the classpath: add them, or make it a "
							+ "plain function");
		}
		this.arguments = argumentsOf(method, this.suspending, jsonMapper);
	}

	/**
	 * Find the transaction in which the method's deliveries are recorded, if it has one:
	 * once the transaction managers exist.
	 * @param subscriber the subscriber's name
	 * @param beanFactory where the transaction managers are
	 * @param audited the audited DataSource
	 */
	void resolveTransaction(String subscriber, ConfigurableListableBeanFactory beanFactory, DataSource audited) {
		this.transaction = SubscriberTransaction.of(subscriber, this.method, this.beanClass, beanFactory, audited);
	}

	/**
	 * The transaction in which its writes and the record of each delivery commit
	 * together.
	 * @return the transaction, or {@code null} when it has none (at least once)
	 */
	@Nullable SubscriberTransaction transaction() {
		return this.transaction;
	}

	Method method() {
		return this.method;
	}

	@Override
	public String describe() {
		return SubscriberDeclarationException.describe(this.method);
	}

	@Override
	public StartupFailure invalid(String problem) {
		return new SubscriberDeclarationException(this.method, problem);
	}

	/**
	 * Call the method with the arguments bound from {@code event}.
	 * @param event the event
	 * @throws Exception what the method threw, or why its arguments could not be bound
	 */
	void invoke(Event event) throws Exception {
		Object[] args = new Object[this.arguments.size()];
		for (int i = 0; i < args.length; i++) {
			args[i] = this.arguments.get(i).apply(event);
		}
		Invocable target = target();
		if (this.suspending) {
			Coroutines.call(target.method(), target.bean(), args);
			return;
		}
		try {
			target.method().invoke(target.bean(), args);
		}
		catch (InvocationTargetException ex) {
			if (ex.getCause() instanceof Exception cause) {
				throw cause;
			}
			throw ex;
		}
	}

	private Invocable target() {
		Invocable target = this.target;
		if (target == null) {
			Object bean = this.bean.get();
			Method invocable = AopUtils.selectInvocableMethod(this.method, bean.getClass());
			ReflectionUtils.makeAccessible(invocable);
			target = new Invocable(bean, invocable);
			this.target = target;
		}
		return target;
	}

	private record Invocable(Object bean, Method method) {
	}

	private static List<Function<Event, @Nullable Object>> argumentsOf(Method method, boolean suspending,
			JsonMapper jsonMapper) {
		Class<?>[] types = Arrays.copyOf(method.getParameterTypes(), method.getParameterCount() - (suspending ? 1 : 0));
		Type[] genericTypes = method.getGenericParameterTypes();
		List<Function<Event, @Nullable Object>> arguments = new ArrayList<>();
		boolean dataBound = false;
		for (int i = 0; i < types.length; i++) {
			Class<?> type = types[i];
			if (type == Event.class) {
				arguments.add((event) -> event);
			}
			else if (type == EventTarget.class) {
				arguments.add(Event::target);
			}
			else if (!isBindable(type)) {
				throw new SubscriberDeclarationException(method,
						"cannot supply parameter " + (i + 1) + " of type " + type.getName()
								+ ". Parameters may be an Event, an EventTarget, and one record, bean "
								+ "or Map bound from the row's data (target.data)");
			}
			else if (dataBound) {
				throw new SubscriberDeclarationException(method, "cannot supply parameter " + (i + 1) + " of type "
						+ type.getName() + ": only one parameter can be bound from the row's data (target.data)");
			}
			else {
				dataBound = true;
				JavaType javaType = jsonMapper.constructType(genericTypes[i]);
				arguments.add((event) -> bind(jsonMapper, event, javaType));
			}
		}
		return List.copyOf(arguments);
	}

	private static Object bind(JsonMapper jsonMapper, Event event, JavaType type) {
		try {
			return jsonMapper.convertValue(event.target().data(), type);
		}
		catch (RuntimeException ex) {
			throw new UnbindableEventException("Cannot bind the data of event " + event.id() + " (" + event.eventName()
					+ ") to " + type.toCanonical() + ": " + ex.getMessage(), ex);
		}
	}

	private static boolean isBindable(Class<?> type) {
		if (Map.class.isAssignableFrom(type)) {
			return true;
		}
		return !(type.isPrimitive() || ClassUtils.isPrimitiveWrapper(type) || type.isArray() || type.isEnum()
				|| CharSequence.class.isAssignableFrom(type) || Number.class.isAssignableFrom(type)
				|| Collection.class.isAssignableFrom(type) || type == Optional.class || type == Object.class
				|| type.getName().startsWith("java."));
	}

}
