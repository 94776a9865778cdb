package dev.pgevents.autoconfigure;

import java.util.function.Supplier;

import org.jspecify.annotations.Nullable;

import dev.pgevents.EventSchemaScript;
import dev.pgevents.internal.capture.RunningSchemaScript;

import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.config.BeanFactoryPostProcessor;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;

/**
 * Registers the application's {@link EventSchemaScript} as the running one before any
 * bean is created, for the Liquibase change that installs the schema: Liquibase runs as a
 * bean of its own and creates the change itself. The script is created when the change
 * first asks for it.
 */
final class SchemaScriptRegistration implements BeanFactoryPostProcessor, DisposableBean {

	private @Nullable Supplier<@Nullable EventSchemaScript> script;

	@Override
	public void postProcessBeanFactory(ConfigurableListableBeanFactory beanFactory) {
		Supplier<@Nullable EventSchemaScript> script = () -> beanFactory.getBeanProvider(EventSchemaScript.class)
			.getIfUnique();
		this.script = script;
		RunningSchemaScript.register(script);
	}

	@Override
	public void destroy() {
		if (this.script != null) {
			RunningSchemaScript.unregister(this.script);
		}
	}

}
