package dev.pgevents.internal.dispatch;

import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.jspecify.annotations.Nullable;

import dev.pgevents.EventSubscriber;

import org.springframework.core.MethodIntrospector;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.expression.Expression;
import org.springframework.expression.ParseException;
import org.springframework.expression.spel.standard.SpelExpressionParser;
import org.springframework.util.ClassUtils;

/**
 * Makes subscribers from their declarations, an {@link EventSubscriber} method or a
 * forwarding route, and refuses a declaration that is wrong with a message that names it.
 */
final class SubscriberDeclarations {

	private static final SpelExpressionParser CONDITIONS = new SpelExpressionParser();

	private SubscriberDeclarations() {
	}

	/**
	 * The {@link EventSubscriber} methods of a bean class.
	 * @param type the bean's class, a proxy's or the class itself
	 * @return each method and its annotation
	 */
	static Map<Method, EventSubscriber> annotated(Class<?> type) {
		return MethodIntrospector.selectMethods(ClassUtils.getUserClass(type),
				(MethodIntrospector.MetadataLookup<EventSubscriber>) (method) -> AnnotatedElementUtils
					.findMergedAnnotation(method, EventSubscriber.class));
	}

	/**
	 * The subscriber an annotated method declares.
	 * @param method the method
	 * @param annotation its annotation
	 * @param recipient the method as the recipient of its events
	 * @return the subscriber
	 * @throws SubscriberDeclarationException when the declaration is wrong
	 */
	static Subscriber of(Method method, EventSubscriber annotation, SubscriberMethod recipient) {
		return new Subscriber(subscriberName(method, annotation), eventNames(annotation.value(), recipient),
				anyTableOperations(annotation.value()), List.of(annotation.changed()), condition(recipient, annotation),
				annotation.ordered(), recipient);
	}

	/**
	 * The subscriber of a forwarding route: it takes each row's events in order.
	 * @param route the route
	 * @return the subscriber
	 * @throws dev.pgevents.internal.support.StartupFailure when the route is wrong
	 */
	static Subscriber of(Route route) {
		ForwardingRoute recipient = new ForwardingRoute(route);
		String[] events = route.events().toArray(String[]::new);
		return new Subscriber(route.name(), eventNames(events, recipient), anyTableOperations(events), List.of(), null,
				true, recipient);
	}

	private static String subscriberName(Method method, EventSubscriber annotation) {
		return annotation.name().isBlank() ? method.getName() : annotation.name();
	}

	/**
	 * The event names of a declaration, <em>table</em>{@code .*} expanded to the table's
	 * three row events; {@code *.}<em>op</em> patterns wait for
	 * {@link SubscriberRegistry#subscriptions}.
	 */
	private static List<String> eventNames(String[] declared, Recipient recipient) {
		if (declared.length == 0) {
			throw recipient.invalid("names no event. Name at least one, e.g. member.created");
		}
		return Arrays.stream(declared)
			.flatMap((eventName) -> pattern(eventName, recipient).names().stream())
			.distinct()
			.toList();
	}

	private static EventPattern pattern(String eventName, Recipient recipient) {
		try {
			return EventPattern.parse(eventName);
		}
		catch (IllegalArgumentException ex) {
			String message = String.valueOf(ex.getMessage());
			throw recipient.invalid(message + (message.endsWith("?") ? " " : ". ")
					+ "For example @EventSubscriber(\"member.created\"). Tables whose names need quoting (upper case, "
					+ "dashes) cannot be audited");
		}
	}

	private static List<String> anyTableOperations(String[] declared) {
		return Arrays.stream(declared)
			.map(EventPattern::parse)
			.filter((pattern) -> pattern.table() == null)
			.map(EventPattern::operation)
			.distinct()
			.toList();
	}

	private static @Nullable Expression condition(SubscriberMethod method, EventSubscriber annotation) {
		if (annotation.condition().isBlank()) {
			return null;
		}
		try {
			return CONDITIONS.parseExpression(annotation.condition());
		}
		catch (ParseException ex) {
			throw method.invalid(
					"condition '" + annotation.condition() + "' is not a valid SpEL expression: " + ex.getMessage());
		}
	}

}
