package dev.pgevents.autoconfigure;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.jspecify.annotations.Nullable;

import dev.pgevents.Delivery;
import dev.pgevents.DeliveryQuery;
import dev.pgevents.EventDeliveries;
import dev.pgevents.internal.capture.AuditSchema;

import dev.pgevents.internal.dispatch.DeliveryEngine;
import dev.pgevents.internal.dispatch.Subscriptions;
import dev.pgevents.kit.EventLog;

import org.springframework.boot.actuate.endpoint.InvalidEndpointRequestException;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The {@code events} actuator endpoint, after Boot's {@code loggers}: GET the subscribers
 * and the backlog, GET the deliveries of a status, POST to replay the dead ones, to
 * backfill a table for a subscriber, or to rewind a subscriber. Exposed over the web only
 * where the application includes it in {@code management.endpoints.web.exposure.include}.
 */
@Endpoint(id = "events")
public final class EventsEndpoint {

	/** How many parked rows the endpoint lists. */
	static final int PARKED_SHOWN = 100;

	private final EventDeliveries deliveries;

	private final DeliveryEngine engine;

	private final JdbcTemplate jdbc;

	private final String registered;

	EventsEndpoint(EventDeliveries deliveries, DeliveryEngine engine, JdbcTemplate jdbc, AuditSchema schema) {
		this.deliveries = deliveries;
		this.engine = engine;
		this.jdbc = jdbc;
		this.registered = "SELECT name, events, last_seen_at FROM " + schema.subscriberTable() + " ORDER BY name";
	}

	/**
	 * This application's subscribers, those every instance registered, and the backlog as
	 * the relay last measured it.
	 * @return the description
	 */
	@ReadOperation
	public EventsDescriptor events() {
		Subscriptions subscribers = this.engine.subscriptions();
		List<SubscriberDescriptor> local = subscribers.describe()
			.entrySet()
			.stream()
			.map((subscriber) -> new SubscriberDescriptor(subscriber.getKey(),
					subscribers.eventNamesBySubscriber().get(subscriber.getKey()), subscriber.getValue()))
			.toList();
		List<RegisteredSubscriber> registered = this.jdbc.query(this.registered,
				(rs, row) -> new RegisteredSubscriber(rs.getString(1), List.of((String[]) rs.getArray(2).getArray()),
						rs.getObject(3, java.time.OffsetDateTime.class).toInstant().toString()));
		DeliveryEngine.Measure backlog = this.engine.status().backlog();
		return new EventsDescriptor(local, registered, (backlog != null) ? backlog.pending() : null,
				(backlog != null) ? backlog.dead() : null, (backlog != null) ? backlog.lag().toMillis() / 1000.0 : null,
				this.engine.eventLog().parked(PARKED_SHOWN));
	}

	/**
	 * A page of the deliveries of a status, newest first.
	 * @param status {@code pending}, {@code dead} or {@code delivered}
	 * @param subscriber only this subscriber's
	 * @param eventName only those of this event, or of this pattern (member.*, *.deleted)
	 * @param limit at most this many: 1 to {@value DeliveryQuery#MAX_LIMIT}, 100 by
	 * default
	 * @param after the {@code next} of the previous page
	 * @return the page, and where the next one starts
	 */
	@ReadOperation
	public DeliveriesDescriptor deliveries(@Selector String status, @Nullable String subscriber,
			@Nullable String eventName, @Nullable Integer limit, @Nullable String after) {
		int pageSize = (limit != null) ? limit : DeliveryQuery.DEFAULT_LIMIT;
		DeliveryQuery query = query(status, subscriber, eventName, pageSize);
		if (after != null) {
			query = query.after(PageCursor.decode(after));
		}
		List<Delivery> page;
		try {
			page = this.deliveries.find(query);
		}
		catch (IllegalArgumentException ex) {
			throw invalid(String.valueOf(ex.getMessage()));
		}
		return new DeliveriesDescriptor(page, (page.size() == pageSize)
				? PageCursor.encode(DeliveryQuery.Position.of(page.get(page.size() - 1))) : null);
	}

	/**
	 * Act on the ledger: replay the dead deliveries that match ({@code events/dead}),
	 * backfill a table for a subscriber ({@code events/backfill}), or rewind a subscriber
	 * ({@code events/rewind}).
	 * @param action {@code dead}, {@code backfill} or {@code rewind}
	 * @param subscriber the subscriber: only this one's dead deliveries; the one to
	 * backfill or rewind
	 * @param eventName only the dead deliveries of this event, or of this pattern
	 * (member.*, *.deleted)
	 * @param table the table to backfill
	 * @param since the instant to rewind to, ISO-8601 ({@code 2026-12-01T00:00:00Z})
	 * @return {@code {"replayed": n}}, or {@code {"queued": n}}
	 */
	@WriteOperation
	public Map<String, Long> act(@Selector String action, @Nullable String subscriber, @Nullable String eventName,
			@Nullable String table, @Nullable String since) {
		try {
			return switch (action) {
				case "dead" -> Map.of("replayed", (long) this.deliveries
					.replayAll(query(action, subscriber, eventName, DeliveryQuery.DEFAULT_LIMIT)));
				case "backfill" -> Map.of("queued",
						this.deliveries.backfill(required("subscriber", subscriber), required("table", table)));
				case "rewind" -> Map.of("queued",
						this.deliveries.rewind(required("subscriber", subscriber), instant(required("since", since))));
				default -> throw invalid(
						"POST to events/dead (replay), events/backfill or events/rewind, not events/" + action);
			};
		}
		catch (IllegalArgumentException ex) {
			throw invalid(String.valueOf(ex.getMessage()));
		}
	}

	/**
	 * A bad request, its reason the whole message: Boot shows the reason in the response
	 * (with {@code spring.web.error.include-message=always}, or as a problem detail).
	 */
	static InvalidEndpointRequestException invalid(String message) {
		return new InvalidEndpointRequestException(message, message);
	}

	private static String required(String name, @Nullable String value) {
		if (value == null || value.isBlank()) {
			throw invalid("The body needs \"" + name + "\"");
		}
		return value;
	}

	private static Instant instant(String value) {
		try {
			return Instant.parse(value);
		}
		catch (DateTimeParseException ex) {
			throw invalid("\"since\" is '" + value + "', not an ISO-8601 instant such as 2026-12-01T00:00:00Z");
		}
	}

	private static DeliveryQuery query(String status, @Nullable String subscriber, @Nullable String eventName,
			int limit) {
		Delivery.Status parsed;
		try {
			parsed = Delivery.Status.valueOf(status.toUpperCase(Locale.ROOT));
		}
		catch (IllegalArgumentException ex) {
			throw invalid("Unknown status '" + status + "': use pending, dead or delivered");
		}
		try {
			return new DeliveryQuery(parsed, subscriber, eventName, null, null, limit, null);
		}
		catch (IllegalArgumentException ex) {
			throw invalid(String.valueOf(ex.getMessage()));
		}
	}

	/**
	 * What the endpoint shows.
	 *
	 * @param subscribers this application's subscribers
	 * @param registered the subscribers every instance registered
	 * @param pending undispatched rows plus deliveries waiting for a retry, if measured
	 * @param dead dead-lettered deliveries, if measured
	 * @param lag seconds: the age of the oldest undispatched row or overdue retry, if
	 * measured
	 * @param parked the rows this application's ordered subscribers parked, each behind
	 * the dead letter it waits for (the newest {@value #PARKED_SHOWN})
	 */
	public record EventsDescriptor(List<SubscriberDescriptor> subscribers, List<RegisteredSubscriber> registered,
			@Nullable Long pending, @Nullable Long dead, @Nullable Double lag, List<EventLog.Parked> parked) {
	}

	/**
	 * A page of deliveries.
	 *
	 * @param deliveries the deliveries, newest first
	 * @param next pass it as {@code after} for the next page; {@code null} on the last
	 */
	public record DeliveriesDescriptor(List<Delivery> deliveries, @Nullable String next) {
	}

	/**
	 * A subscriber of this application.
	 *
	 * @param name its name
	 * @param events the events it takes
	 * @param method the bean method
	 */
	public record SubscriberDescriptor(String name, @Nullable List<String> events, String method) {
	}

	/**
	 * A subscriber in the registry that every instance shares.
	 *
	 * @param name its name
	 * @param events the events it takes
	 * @param lastSeenAt when an instance that has it last registered it
	 */
	public record RegisteredSubscriber(String name, List<String> events, String lastSeenAt) {
	}

}
