package dev.pgevents;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.List;

import org.jspecify.annotations.Nullable;

import org.springframework.boot.test.util.TestPropertyValues;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.test.context.ContextConfigurationAttributes;
import org.springframework.test.context.ContextCustomizer;
import org.springframework.test.context.ContextCustomizerFactories;
import org.springframework.test.context.ContextCustomizerFactory;
import org.springframework.test.context.MergedContextConfiguration;
import org.springframework.test.context.TestContextAnnotationUtils;

/**
 * Gives the annotated test class's application context a new, empty database of its own
 * ({@link TestDatabase#create()}) as {@code spring.datasource.url}.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ContextCustomizerFactories(WithTestDatabase.Factory.class)
public @interface WithTestDatabase {

	/**
	 * Creates the database when the context is, once per test class (the class is part of
	 * the context's cache key, so no two classes share a database).
	 */
	final class Factory implements ContextCustomizerFactory {

		@Override
		public @Nullable ContextCustomizer createContextCustomizer(Class<?> testClass,
				List<ContextConfigurationAttributes> configAttributes) {
			return TestContextAnnotationUtils.hasAnnotation(testClass, WithTestDatabase.class)
					? new Customizer(testClass) : null;
		}

	}

	record Customizer(Class<?> testClass) implements ContextCustomizer {

		@Override
		public void customizeContext(ConfigurableApplicationContext context, MergedContextConfiguration config) {
			TestPropertyValues.of("spring.datasource.url=" + TestDatabase.create()).applyTo(context);
		}

	}

}
