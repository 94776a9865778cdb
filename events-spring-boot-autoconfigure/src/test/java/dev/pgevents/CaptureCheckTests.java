package dev.pgevents;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A capture trigger dropped while the application runs (a {@code DROP TRIGGER}, a
 * migration that recreated the table) is reported as an error and turns the
 * {@code events} health check DOWN, naming the table and the operation, until a restart
 * reinstalls it.
 */
@WithTestDatabase
@ExtendWith(OutputCaptureExtension.class)
@SpringBootTest(classes = CaptureCheckTests.App.class,
		properties = { TestApplications.SQL_INIT, TestApplications.MEMBER_SCHEMA })
class CaptureCheckTests {

	@Autowired
	JdbcTemplate jdbc;

	@Autowired
	@Qualifier("eventsHealthIndicator")
	HealthIndicator health;

	@Value("${spring.datasource.url}")
	String url;

	@Test
	void aDroppedTriggerIsLoggedAsAnErrorAndTurnsTheHealthCheckDown(CapturedOutput output) {
		await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
			Health health = this.health.health(true);
			assertThat(health.getStatus()).isEqualTo(Status.UP);
			assertThat(health.getDetails()).containsEntry("relay", "running")
				.containsEntry("listener", "listening")
				.containsEntry("pending", 0L)
				.containsEntry("dead", 0L);
		});

		String trigger = this.jdbc.queryForObject("SELECT tgname FROM pg_trigger WHERE tgrelid = 'member'::regclass "
				+ "AND NOT tgisinternal AND tgtype & 16 <> 0", String.class); // the
																				// UPDATE
																				// trigger
		this.jdbc.execute("DROP TRIGGER " + trigger + " ON member");

		await().atMost(Duration.ofSeconds(30))
			.until(() -> output.getOut()
				.contains("Table 'member' has lost its UPDATE capture trigger(s): those changes of it are not "
						+ "captured"));
		await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
			Health health = this.health.health(true);
			assertThat(health.getStatus()).isEqualTo(Status.DOWN);
			assertThat(health.getDetails()).containsEntry("missingTriggers", Map.of("member", List.of("UPDATE")));
		});

		// a restart (here another instance) reinstalls the trigger: UP again
		try (ConfigurableApplicationContext restarted = new SpringApplicationBuilder(App.class)
			.properties("spring.datasource.url=" + this.url, "spring.main.banner-mode=off")
			.run()) {
			await().atMost(Duration.ofSeconds(30))
				.untilAsserted(() -> assertThat(this.health.health(true).getStatus()).isEqualTo(Status.UP));
			assertThat(output.getOut()).contains("Table 'member' has all its capture triggers again");
		}
	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class App {

		@Bean
		MemberDeliveries members() {
			return new MemberDeliveries();
		}

	}

}
