package dev.pgevents.internal.dispatch;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.jspecify.annotations.Nullable;

/**
 * This instance's subscribers once the audited tables are known, their patterns of every
 * table expanded: who takes each event. Immutable; made by
 * {@link SubscriberRegistry#subscriptions}.
 */
public final class Subscriptions {

	private final Map<String, Subscriber> byName;

	private final Map<String, List<Subscriber>> byEvent;

	Subscriptions(Map<String, Subscriber> byName) {
		this.byName = Collections.unmodifiableMap(new LinkedHashMap<>(byName));
		Map<String, List<Subscriber>> byEvent = new LinkedHashMap<>();
		byName.values()
			.forEach((subscriber) -> subscriber.eventNames()
				.forEach(
						(eventName) -> byEvent.computeIfAbsent(eventName, (key) -> new ArrayList<>()).add(subscriber)));
		byEvent.replaceAll((eventName, subscribers) -> List.copyOf(subscribers));
		this.byEvent = Collections.unmodifiableMap(byEvent);
	}

	/**
	 * The subscriber names.
	 * @return the names
	 */
	public List<String> names() {
		return List.copyOf(this.byName.keySet());
	}

	/**
	 * The event names of each subscriber.
	 * @return subscriber name to event names
	 */
	public Map<String, List<String>> eventNamesBySubscriber() {
		Map<String, List<String>> events = new LinkedHashMap<>();
		this.byName.forEach((name, subscriber) -> events.put(name, subscriber.eventNames()));
		return events;
	}

	/**
	 * Each subscriber's method or route.
	 * @return subscriber name to its description
	 */
	public Map<String, String> describe() {
		Map<String, String> described = new LinkedHashMap<>();
		this.byName.forEach((name, subscriber) -> described.put(name, subscriber.describe()));
		return described;
	}

	/**
	 * The subscribers that take each row's events in order.
	 * @return their names
	 */
	List<String> orderedNames() {
		return this.byName.values().stream().filter(Subscriber::ordered).map(Subscriber::name).toList();
	}

	List<Subscriber> subscribersOf(String eventName) {
		return this.byEvent.getOrDefault(eventName, List.of());
	}

	@Nullable Subscriber named(String name) {
		return this.byName.get(name);
	}

}
