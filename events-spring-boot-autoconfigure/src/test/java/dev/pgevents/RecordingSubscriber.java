package dev.pgevents;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Records what its subscriber methods receive.
 */
public class RecordingSubscriber {

	final List<Event> events = new CopyOnWriteArrayList<>();

	final List<String> traceparents = new CopyOnWriteArrayList<>();

	final Map<String, List<Event>> bySubscriber = new ConcurrentHashMap<>();

	void record(String subscriber, Event event) {
		this.events.add(event);
		this.bySubscriber.computeIfAbsent(subscriber, (key) -> new CopyOnWriteArrayList<>()).add(event);
	}

	List<Event> of(String subscriber) {
		return this.bySubscriber.getOrDefault(subscriber, List.of());
	}

	/**
	 * An event in one line, {@code <name> <target id> <field>}, or for an update
	 * {@code <name> <target id> <previous field>-><field>}: what tests compare.
	 */
	static String describe(Event event, String field) {
		Object value = event.target().data().get(field);
		return event.eventName() + " " + event.target().id() + " " + ((event.operation() == Event.Operation.UPDATED)
				? event.target().previousData().get(field) + "->" + value : value);
	}

	void clear() {
		this.events.clear();
		this.bySubscriber.clear();
		this.traceparents.clear();
	}

}
