package dev.pgevents.samples.membercopy;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * Another service: it has no database of its own here, and keeps a copy of the members
 * service's {@code member} table from the events that service forwards to Kafka (run the
 * members app with the {@code forward} profile).
 */
@SpringBootApplication(excludeName = "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration")
public class MemberCopyApplication {

	public static void main(String[] args) {
		SpringApplication application = new SpringApplication(MemberCopyApplication.class);
		application.setAdditionalProfiles("copy");
		application.run(args);
	}

}
