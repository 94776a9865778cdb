package dev.pgevents.internal.dispatch;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import java.util.function.Supplier;

import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JavaType;
import tools.jackson.databind.json.JsonMapper;

import dev.pgevents.Event;
import dev.pgevents.EventTarget;

import org.springframework.aop.support.AopUtils;
import org.springframework.expression.EvaluationContext;
import org.springframework.expression.Expression;
import org.springframework.expression.spel.support.SimpleEvaluationContext;
import org.springframework.util.ClassUtils;
import org.springframework.util.ReflectionUtils;

/**
 * One {@code @EventSubscriber} method: its name, its events, and how to call it.
 */
final class Subscriber {

	/**
	 * Conditions read the event's properties and maps and may call methods of the values
	 * they reach ({@code contains}, {@code startsWith}), but reach no bean, type or
	 * static method, and change nothing.
	 */
	private static final EvaluationContext CONDITIONS = SimpleEvaluationContext.forReadOnlyDataBinding()
		.withInstanceMethods()
		.build();

	private final String name;

	private final CopyOnWriteArrayList<String> eventNames;

	private final List<String> anyTableOperations;

	private final List<String> changed;

	private final @Nullable Expression condition;

	private final boolean ordered;

	private final Method method;

	private final Supplier<Object> bean;

	private final List<Function<Event, @Nullable Object>> arguments;

	private volatile @Nullable Invocable target;

	/**
	 * @param name the subscriber name
	 * @param eventNames the event names it takes, patterns of one table expanded
	 * @param anyTableOperations the operations of its {@code *.<op>} patterns, which
	 * {@link #takeEvent} expands once the audited tables are known
	 * @param changed the fields of which an update must change one, or none
	 * @param condition the condition on the event, or {@code null}
	 * @param ordered whether it takes each row's events in order
	 * @param method the method
	 * @param bean supplies the bean
	 * @param jsonMapper binds data to typed parameters
	 */
	Subscriber(String name, List<String> eventNames, List<String> anyTableOperations, List<String> changed,
			@Nullable Expression condition, boolean ordered, Method method, Supplier<Object> bean,
			JsonMapper jsonMapper) {
		this.name = name;
		this.eventNames = new CopyOnWriteArrayList<>(eventNames);
		this.anyTableOperations = anyTableOperations;
		this.changed = changed;
		this.condition = condition;
		this.ordered = ordered;
		this.method = method;
		this.bean = bean;
		this.arguments = argumentsOf(method, jsonMapper);
	}

	String name() {
		return this.name;
	}

	List<String> eventNames() {
		return List.copyOf(this.eventNames);
	}

	List<String> anyTableOperations() {
		return this.anyTableOperations;
	}

	List<String> changed() {
		return this.changed;
	}

	/**
	 * Whether it takes each row's events in commit order, one call at a time per row.
	 * @return whether it is ordered
	 */
	boolean ordered() {
		return this.ordered;
	}

	/**
	 * Take one more event, from a {@code *.<op>} pattern.
	 * @param eventName the event name
	 * @return whether it was new to the subscriber
	 */
	boolean takeEvent(String eventName) {
		return this.eventNames.addIfAbsent(eventName);
	}

	/**
	 * Whether the subscriber is to be called with an event: an update must change one of
	 * the {@code changed} fields, and the condition must hold.
	 * @param event the event
	 * @return whether to call it
	 * @throws RuntimeException when the condition cannot be evaluated
	 */
	boolean accepts(Event event) {
		if (!this.changed.isEmpty() && event.eventName().endsWith("." + Event.UPDATED)
				&& event.target().changedFields().stream().noneMatch(this.changed::contains)) {
			return false;
		}
		if (this.condition == null) {
			return true;
		}
		Boolean holds = this.condition.getValue(CONDITIONS, event, Boolean.class);
		if (holds == null) {
			throw new IllegalStateException("The condition '" + this.condition.getExpressionString()
					+ "' of subscriber '" + this.name + "' is null for event " + event.id());
		}
		return holds;
	}

	Method method() {
		return this.method;
	}

	String describe() {
		return SubscriberDeclarationException.describe(this.method);
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

	private static List<Function<Event, @Nullable Object>> argumentsOf(Method method, JsonMapper jsonMapper) {
		Class<?>[] types = method.getParameterTypes();
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
