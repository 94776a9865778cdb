package dev.pgevents.autoconfigure;

import java.util.Arrays;
import java.util.List;

import javax.sql.DataSource;

import tools.jackson.databind.json.JsonMapper;

import dev.pgevents.internal.support.StartupFailure;
import dev.pgevents.internal.dispatch.SubscriberRegistry;

import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * When {@link EventsAutoConfiguration} backed off although the events are enabled (no
 * single DataSource: none, as in an R2DBC-only application, or several without a
 * {@code @Primary} one), an application with {@code @EventSubscriber} methods fails at
 * startup naming them and the reason, instead of starting with subscribers that never
 * run.
 */
@AutoConfiguration(after = EventsAutoConfiguration.class)
@ConditionalOnClass(JsonMapper.class)
@ConditionalOnBooleanProperty(name = "events.enabled", matchIfMissing = true)
@ConditionalOnMissingBean(SubscriberRegistry.class)
public final class EventsWithoutDataSourceAutoConfiguration {

	@Bean
	static SmartInitializingSingleton eventSubscribersWithoutDatabase(ConfigurableListableBeanFactory beanFactory) {
		return () -> {
			SubscriberRegistry subscribers = new SubscriberRegistry(beanFactory, new JsonMapper(), List.of());
			if (subscribers.isEmpty()) {
				return;
			}
			List<String> dataSources = Arrays.asList(beanFactory.getBeanNamesForType(DataSource.class, true, false));
			String reason = dataSources.isEmpty()
					? "the application has no JDBC DataSource (R2DBC alone is not "
							+ "supported: the events need a JDBC DataSource on PostgreSQL, which may sit beside R2DBC)"
					: "the application has " + dataSources.size() + " DataSources " + dataSources
							+ " and none is @Primary: mark the one to audit @Primary";
			throw new StartupFailure(
					"The @EventSubscriber methods " + subscribers.names() + " would never be called: " + reason,
					"Or set events.enabled=false to start without them");
		};
	}

}
