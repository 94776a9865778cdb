package dev.pgevents.autoconfigure;

import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Set;

import org.springframework.beans.factory.BeanFactoryUtils;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.beans.factory.config.BeanFactoryPostProcessor;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.core.Ordered;
import org.springframework.util.ClassUtils;
import org.springframework.util.StringUtils;

/**
 * Installs the audit schema after the application's JPA entity manager factories rather
 * than before them, so that the tables Hibernate's schema generation creates
 * ({@code spring.jpa.hibernate.ddl-auto=create}, {@code update}, ...) exist when their
 * triggers are installed. The entity manager factories do not write rows; every
 * transaction manager, the JPA one included, still waits for the schema (see
 * {@link TransactionContextPostProcessor}), and so does every bean that depends on
 * database initialization.
 */
final class SchemaAfterJpaPostProcessor implements BeanFactoryPostProcessor, Ordered {

	private static final String[] ENTITY_MANAGER_FACTORY_TYPES = { "jakarta.persistence.EntityManagerFactory",
			"org.springframework.orm.jpa.AbstractEntityManagerFactoryBean" };

	@Override
	public void postProcessBeanFactory(ConfigurableListableBeanFactory beanFactory) {
		Set<String> factories = entityManagerFactories(beanFactory);
		if (factories.isEmpty()) {
			return;
		}
		for (String initializer : beanFactory.getBeanNamesForType(EventSchemaInitializer.class, true, false)) {
			for (String factory : factories) {
				// Boot's database initialization made every factory wait for the schema
				BeanDefinition definition = beanFactory.getBeanDefinition(factory);
				String[] dependsOn = definition.getDependsOn();
				if (dependsOn != null) {
					definition.setDependsOn(Arrays.stream(dependsOn)
						.filter((name) -> !name.equals(initializer))
						.toArray(String[]::new));
				}
			}
			BeanDefinition definition = beanFactory.getBeanDefinition(initializer);
			Set<String> dependsOn = new LinkedHashSet<>();
			if (definition.getDependsOn() != null) {
				dependsOn.addAll(Arrays.asList(definition.getDependsOn()));
			}
			dependsOn.addAll(factories);
			definition.setDependsOn(StringUtils.toStringArray(dependsOn));
		}
	}

	private static Set<String> entityManagerFactories(ConfigurableListableBeanFactory beanFactory) {
		Set<String> names = new LinkedHashSet<>();
		ClassLoader classLoader = beanFactory.getBeanClassLoader();
		for (String type : ENTITY_MANAGER_FACTORY_TYPES) {
			if (ClassUtils.isPresent(type, classLoader)) {
				for (String name : beanFactory.getBeanNamesForType(ClassUtils.resolveClassName(type, classLoader), true,
						false)) {
					String beanName = BeanFactoryUtils.transformedBeanName(name);
					if (beanFactory.containsBeanDefinition(beanName)) {
						names.add(beanName);
					}
				}
			}
		}
		return names;
	}

	/**
	 * After Boot's database initialization ordering
	 * ({@code DatabaseInitializationDependencyConfigurer}, order 0), which it amends.
	 */
	@Override
	public int getOrder() {
		return Ordered.LOWEST_PRECEDENCE;
	}

}
