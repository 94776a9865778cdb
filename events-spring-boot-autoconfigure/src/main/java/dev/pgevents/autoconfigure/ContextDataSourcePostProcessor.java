package dev.pgevents.autoconfigure;

import javax.sql.DataSource;

import dev.pgevents.internal.capture.ContextConnections;

import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;

/**
 * Proxies the application's DataSource (the one the auto-configuration audits: the only
 * one, or the primary one) so that a transaction's capture context waits for its first
 * statement that may write an audited table (see {@link ContextConnections}).
 */
final class ContextDataSourcePostProcessor implements BeanPostProcessor {

	private final ConfigurableListableBeanFactory beanFactory;

	ContextDataSourcePostProcessor(ConfigurableListableBeanFactory beanFactory) {
		this.beanFactory = beanFactory;
	}

	@Override
	public Object postProcessAfterInitialization(Object bean, String beanName) {
		if (bean instanceof DataSource dataSource && isAudited(beanName)) {
			return ContextConnections.wrap(dataSource);
		}
		return bean;
	}

	private boolean isAudited(String beanName) {
		String[] dataSources = this.beanFactory.getBeanNamesForType(DataSource.class, true, false);
		return dataSources.length == 1 || (this.beanFactory.containsBeanDefinition(beanName)
				&& this.beanFactory.getMergedBeanDefinition(beanName).isPrimary());
	}

}
