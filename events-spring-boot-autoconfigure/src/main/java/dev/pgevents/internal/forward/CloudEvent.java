package dev.pgevents.internal.forward;

import java.util.LinkedHashMap;
import java.util.Map;

import tools.jackson.databind.ObjectWriter;
import tools.jackson.databind.json.JsonMapper;

import dev.pgevents.Event;

/**
 * A forwarded event's body and CloudEvents attributes, the same for every broker: the
 * body is the event's JSON, the shape subscribers see.
 */
final class CloudEvent {

	static final String CONTENT_TYPE = "content-type";

	static final String TRACEPARENT = "traceparent";

	/** The starter's own mapper: the application's settings must not change the shape. */
	private static final ObjectWriter JSON = JsonMapper.builder().build().writerFor(Event.class);

	private final String source;

	CloudEvent(String source) {
		this.source = source;
	}

	byte[] json(Event event) {
		return JSON.writeValueAsBytes(event);
	}

	/**
	 * The attributes of the binary binding, without prefix, then the content type and the
	 * trace.
	 */
	Map<String, String> attributes(Event event, String traceparent) {
		Map<String, String> attributes = new LinkedHashMap<>();
		attributes.put("specversion", "1.0");
		attributes.put("id", event.id());
		attributes.put("type", event.eventName());
		attributes.put("source", this.source);
		attributes.put("time", event.occurredAt().toString());
		attributes.put("subject", event.target().id());
		attributes.put("table", event.table());
		attributes.put(CONTENT_TYPE, "application/json");
		attributes.put(TRACEPARENT, traceparent);
		return attributes;
	}

	String source() {
		return this.source;
	}

}
