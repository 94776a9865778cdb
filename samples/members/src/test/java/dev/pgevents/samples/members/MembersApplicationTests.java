package dev.pgevents.samples.members;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.web.client.RestClient;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The README's walk-through: create, update and delete a member over HTTP, and see what
 * the subscribers did.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class MembersApplicationTests {

	@Value("${local.server.port}")
	int port;

	@Test
	void subscribersReactToMemberChanges() {
		RestClient http = RestClient.create("http://localhost:" + this.port);
		Map<String, Object> member = http.post()
			.uri("/members")
			.body(Map.of("name", "Ada", "email", "ada@example.com"))
			.retrieve()
			.body(new ParameterizedTypeReference<>() {
			});
		Object id = member.get("id");
		http.patch().uri("/members/{id}", id).body(Map.of("email", "ada@lovelace.dev")).retrieve().toBodilessEntity();
		http.delete().uri("/members/{id}", id).retrieve().toBodilessEntity();

		List<Map<String, Object>> emails = http.get()
			.uri("/members/welcome-emails")
			.retrieve()
			.body(new ParameterizedTypeReference<>() {
			});
		assertThat(emails).singleElement().satisfies((email) -> assertThat(email).containsEntry("member_id", id));
		List<Map<String, Object>> history = http.get()
			.uri("/members/{id}/history", id)
			.retrieve()
			.body(new ParameterizedTypeReference<>() {
			});
		assertThat(history).extracting((entry) -> entry.get("eventName"))
			.containsExactly("member.updated", "member.deleted");
		assertThat(history.get(0).get("changes"))
			.isEqualTo(Map.of("email", Map.of("from", "ada@example.com", "to", "ada@lovelace.dev")));
	}

}
