package dev.pgevents.samples.members;

import java.util.List;
import java.util.Map;
import java.util.UUID;

import tools.jackson.databind.json.JsonMapper;

import org.springframework.http.HttpStatus;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PatchMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ResponseStatusException;

/**
 * Members over HTTP. Nothing here publishes an event: the database captures the writes,
 * and the subscribers have run by the time each request returns.
 */
@RestController
@RequestMapping("/members")
class MemberController {

	private final JdbcClient jdbc;

	private final JsonMapper json;

	MemberController(JdbcClient jdbc, JsonMapper json) {
		this.jdbc = jdbc;
		this.json = json;
	}

	@PostMapping
	@ResponseStatus(HttpStatus.CREATED)
	@Transactional
	Map<String, Object> create(@RequestBody Map<String, String> member) {
		return this.jdbc.sql("INSERT INTO member (name, email) VALUES (:name, :email) RETURNING *")
			.param("name", member.get("name"))
			.param("email", member.get("email"))
			.query()
			.singleRow();
	}

	@PatchMapping("/{id}")
	@Transactional
	Map<String, Object> update(@PathVariable UUID id, @RequestBody Map<String, String> changes) {
		return this.jdbc.sql(
				"UPDATE member SET name = coalesce(:name, name), email = coalesce(:email, email) WHERE id = :id RETURNING *")
			.param("name", changes.get("name"))
			.param("email", changes.get("email"))
			.param("id", id)
			.query()
			.listOfRows()
			.stream()
			.findFirst()
			.orElseThrow(() -> new ResponseStatusException(HttpStatus.NOT_FOUND));
	}

	@DeleteMapping("/{id}")
	@ResponseStatus(HttpStatus.NO_CONTENT)
	@Transactional
	void delete(@PathVariable UUID id) {
		this.jdbc.sql("DELETE FROM member WHERE id = :id").param("id", id).update();
	}

	@GetMapping("/{id}/history")
	List<Map<String, Object>> history(@PathVariable UUID id) {
		return this.jdbc
			.sql("SELECT event_name, changes::text, occurred_at FROM member_history WHERE member_id = :id ORDER BY id")
			.param("id", id)
			.query((rs, row) -> Map.of("eventName", rs.getString(1), "changes",
					this.json.readValue(rs.getString(2), Map.class), "occurredAt", rs.getTimestamp(3).toInstant()))
			.list();
	}

	@GetMapping("/welcome-emails")
	List<Map<String, Object>> welcomeEmails() {
		return this.jdbc.sql("SELECT member_id, address, sent_at FROM welcome_email ORDER BY id").query().listOfRows();
	}

}
