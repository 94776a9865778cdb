package dev.pgevents.samples.members;

import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.UUID;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.json.JsonMapper;

import dev.pgevents.Event;
import dev.pgevents.EventSubscriber;

import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * Reacts to member changes: a welcome email for every new member, and a change history.
 */
@Component
class MemberSubscribers {

	private static final Logger logger = LoggerFactory.getLogger(MemberSubscribers.class);

	private final JdbcClient jdbc;

	private final JsonMapper json;

	MemberSubscribers(JdbcClient jdbc, JsonMapper json) {
		this.jdbc = jdbc;
		this.json = json;
	}

	@EventSubscriber("member.created")
	void verifyEmail(Member member, Event event) {
		logger.info("verifyEmail: sending a welcome email to {} <{}> (event {})", member.name(), member.email(),
				event.id());
		// runs in a transaction of its own: the member's transaction has committed
		this.jdbc.sql("INSERT INTO welcome_email (member_id, address) VALUES (:id, :address)")
			.param("id", member.id())
			.param("address", member.email())
			.update();
	}

	@EventSubscriber(value = { "member.updated", "member.deleted" }, name = "memberHistory")
	void history(Event event) {
		Map<String, Object> changes = changes(event);
		logger.info("memberHistory: {} {} by {} changed {}", event.eventName(), event.target().id(), event.identityId(),
				changes);
		this.jdbc
			.sql("INSERT INTO member_history (member_id, event_name, changes, occurred_at) "
					+ "VALUES (:id, :name, :changes::jsonb, :at)")
			.param("id", UUID.fromString(event.target().id()))
			.param("name", event.eventName())
			.param("changes", this.json.writeValueAsString(changes))
			.param("at", java.sql.Timestamp.from(event.occurredAt()))
			.update();
	}

	/**
	 * What a change did: for an update, each changed field's old and new value; for a
	 * delete, the row as it was.
	 * @param event a {@code member.updated} or {@code member.deleted} event
	 * @return field to change
	 */
	static Map<String, Object> changes(Event event) {
		Map<String, Object> changes = new TreeMap<>();
		Map<String, Object> before = event.target().previousData();
		event.target().data().forEach((key, value) -> {
			if (event.operation() == Event.Operation.DELETED) {
				changes.put(key, value);
			}
			else if (before != null && !Objects.equals(before.get(key), value)) {
				changes.put(key, Map.of("from", String.valueOf(before.get(key)), "to", String.valueOf(value)));
			}
		});
		return changes;
	}

}
