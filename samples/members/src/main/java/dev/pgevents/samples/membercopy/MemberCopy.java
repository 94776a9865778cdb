package dev.pgevents.samples.membercopy;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.stereotype.Component;

/**
 * The copy: a snapshot, a creation or an update puts the row as it is now, a deletion
 * removes it. The members service forwards each row's changes in commit order, keyed by
 * the row, so a partition, and this listener, sees them in that order.
 */
@Component
public class MemberCopy {

	private static final Log logger = LogFactory.getLog(MemberCopy.class);

	private static final JsonMapper JSON = JsonMapper.builder().build();

	private final Map<String, Map<String, Object>> rows = new ConcurrentHashMap<>();

	@KafkaListener(topics = "${members.topic:members}", groupId = "member-copy")
	void apply(ConsumerRecord<String, String> record) {
		JsonNode event = JSON.readTree(record.value());
		String eventName = event.get("eventName").asString();
		if (eventName.endsWith(".deleted")) {
			this.rows.remove(record.key());
		}
		else {
			this.rows.put(record.key(), JSON.convertValue(event.get("target").get("data"), Map.class));
		}
		logger.info("Applied " + eventName + " " + record.key() + " (event " + event.get("id").asString() + ")");
	}

	/**
	 * The copy as it is now.
	 * @return member id to the row's data
	 */
	public Map<String, Map<String, Object>> rows() {
		return Map.copyOf(this.rows);
	}

}
