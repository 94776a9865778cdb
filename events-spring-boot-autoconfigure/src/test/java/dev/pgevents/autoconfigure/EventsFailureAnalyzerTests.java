package dev.pgevents.autoconfigure;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.pgevents.internal.support.StartupFailure;

import org.springframework.beans.factory.BeanCreationException;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatException;

@ExtendWith(OutputCaptureExtension.class)
class EventsFailureAnalyzerTests {

	@Test
	void aFailedStartupCheckBecomesADescriptionAndAnAction() {
		StartupFailure failure = new StartupFailure("Table 'membr' does not exist", "Create it, or fix the name");
		FailureAnalysis analysis = new EventsFailureAnalyzer()
			.analyze(new BeanCreationException("eventSchemaInitializer", "failed", failure));
		assertThat(analysis.getDescription()).isEqualTo("Table 'membr' does not exist.");
		assertThat(analysis.getAction()).isEqualTo("Create it, or fix the name.");
	}

	@Test
	void bootReportsItAsAnApplicationThatFailedToStart(CapturedOutput output) {
		SpringApplication application = new SpringApplication(Failing.class);
		application.setWebApplicationType(WebApplicationType.NONE);
		assertThatException().isThrownBy(application::run);
		assertThat(output).contains("APPLICATION FAILED TO START")
			.contains("Description:")
			.contains("Table 'membr' does not exist.")
			.contains("Action:")
			.contains("Create it, or fix the name.");
	}

	@Configuration(proxyBeanMethods = false)
	static class Failing {

		@Bean
		Object failingCheck() {
			throw new StartupFailure("Table 'membr' does not exist", "Create it, or fix the name");
		}

	}

}
