package dev.pgevents.test;

import java.util.List;
import java.util.Map;

import org.jspecify.annotations.Nullable;

import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.MapPropertySource;
import org.springframework.test.context.ContextConfigurationAttributes;
import org.springframework.test.context.ContextCustomizer;
import org.springframework.test.context.ContextCustomizerFactory;
import org.springframework.test.context.MergedContextConfiguration;

/**
 * Keeps a test context's subscribers to itself
 * ({@code events.relay.share-subscribers=false}): a test run against a shared database (a
 * CI or development database, where the application or other runs write too) is handed
 * none of their events, and they hand none to its subscribers. A test that sets the
 * property itself keeps its value.
 */
final class TestContextRegistrations implements ContextCustomizerFactory {

	static final String PROPERTY = "events.relay.share-subscribers";

	@Override
	public ContextCustomizer createContextCustomizer(Class<?> testClass,
			List<ContextConfigurationAttributes> configAttributes) {
		return new Customizer();
	}

	/**
	 * Adds the property, below every other source.
	 */
	private static final class Customizer implements ContextCustomizer {

		@Override
		public void customizeContext(ConfigurableApplicationContext context, MergedContextConfiguration mergedConfig) {
			context.getEnvironment()
				.getPropertySources()
				.addLast(new MapPropertySource("events test context", Map.of(PROPERTY, "false")));
		}

		@Override
		public boolean equals(@Nullable Object other) {
			return other instanceof Customizer;
		}

		@Override
		public int hashCode() {
			return Customizer.class.hashCode();
		}

	}

}
