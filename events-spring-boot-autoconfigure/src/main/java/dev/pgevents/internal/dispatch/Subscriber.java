package dev.pgevents.internal.dispatch;

import java.util.List;

import org.jspecify.annotations.Nullable;

import dev.pgevents.Event;

import org.springframework.expression.EvaluationContext;
import org.springframework.expression.Expression;
import org.springframework.expression.spel.support.SimpleEvaluationContext;

/**
 * One subscriber: its name, its events, the filters that pick the events it is called
 * with, and where they go (an {@code @EventSubscriber} method, or a forwarding route).
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

	private final List<String> eventNames;

	private final List<String> anyTableOperations;

	private final List<String> changed;

	private final @Nullable Expression condition;

	private final boolean ordered;

	private final Recipient recipient;

	/**
	 * @param name the subscriber name
	 * @param eventNames the event names it takes, patterns of one table expanded
	 * @param anyTableOperations the operations of its {@code *.<op>} patterns, which
	 * {@link #withEventNames} expands once the audited tables are known
	 * @param changed the fields of which an update must change one, or none
	 * @param condition the condition on the event, or {@code null}
	 * @param ordered whether it takes each row's events in order
	 * @param recipient where its events go
	 */
	Subscriber(String name, List<String> eventNames, List<String> anyTableOperations, List<String> changed,
			@Nullable Expression condition, boolean ordered, Recipient recipient) {
		this.name = name;
		this.eventNames = List.copyOf(eventNames);
		this.anyTableOperations = anyTableOperations;
		this.changed = changed;
		this.condition = condition;
		this.ordered = ordered;
		this.recipient = recipient;
	}

	String name() {
		return this.name;
	}

	List<String> eventNames() {
		return this.eventNames;
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
	 * This subscriber with more events, from its {@code *.<op>} patterns.
	 * @param eventNames every event name it takes
	 * @return the same subscriber, taking those events
	 */
	Subscriber withEventNames(List<String> eventNames) {
		return new Subscriber(this.name, eventNames, this.anyTableOperations, this.changed, this.condition,
				this.ordered, this.recipient);
	}

	/**
	 * Whether the subscriber is to be called with an event: an update must change one of
	 * the {@code changed} fields, and the condition must hold.
	 * @param event the event
	 * @return whether to call it
	 * @throws RuntimeException when the condition cannot be evaluated
	 */
	boolean accepts(Event event) {
		if (!this.changed.isEmpty() && event.operation() == Event.Operation.UPDATED
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

	String describe() {
		return this.recipient.describe();
	}

	/**
	 * Where its events go.
	 * @return the recipient
	 */
	Recipient recipient() {
		return this.recipient;
	}

	/**
	 * The forwarder of a forwarding route.
	 * @return the forwarder, or {@code null} for a subscriber method
	 */
	@Nullable Forwarder forwarder() {
		return (this.recipient instanceof ForwardingRoute route) ? route : null;
	}

	/**
	 * The transaction in which a subscriber method's writes and the record of each
	 * delivery commit together.
	 * @return the transaction, or {@code null} for a route or a method without one
	 */
	@Nullable SubscriberTransaction transaction() {
		return (this.recipient instanceof SubscriberMethod method) ? method.transaction() : null;
	}

	/**
	 * Call the subscriber method with the arguments bound from {@code event}.
	 * @param event the event
	 * @throws Exception what the method threw, or why its arguments could not be bound
	 */
	void invoke(Event event) throws Exception {
		if (!(this.recipient instanceof SubscriberMethod method)) {
			throw new IllegalStateException("'" + this.name + "' is a forwarding route, not a subscriber method");
		}
		method.invoke(event);
	}

}
