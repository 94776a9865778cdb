package dev.pgevents.autoconfigure;

import java.util.List;

import javax.sql.DataSource;

import tools.jackson.databind.json.JsonMapper;

import dev.pgevents.EventDeliveries;
import dev.pgevents.EventHandler;
import dev.pgevents.EventSchemaScript;
import dev.pgevents.IdentityResolver;
import dev.pgevents.SubscriberMethods;
import dev.pgevents.TraceSource;
import dev.pgevents.internal.capture.AuditSchema;
import dev.pgevents.internal.support.StartupFailure;
import dev.pgevents.internal.dispatch.AfterCommitDispatch;
import dev.pgevents.internal.dispatch.Backoff;
import dev.pgevents.internal.dispatch.DeliveryEngine;
import dev.pgevents.internal.dispatch.DeliveryObserver;
import dev.pgevents.internal.dispatch.Relay;
import dev.pgevents.internal.dispatch.SubscriberRegistry;
import dev.pgevents.kit.EventLog;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration;
import org.springframework.boot.jdbc.metadata.DataSourcePoolMetadataProvider;
import org.springframework.boot.thread.Threading;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.util.ClassUtils;

/**
 * Auto-configuration of change events: every committed row change of the tables named by
 * {@code @EventSubscriber} methods is captured by PostgreSQL triggers and delivered to
 * those methods after commit. Metrics, health, the endpoint and tracing have
 * auto-configurations of their own, which back off with this one.
 */
@AutoConfiguration(after = { DataSourceAutoConfiguration.class, DataSourceTransactionManagerAutoConfiguration.class },
		afterName = "org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration")
@ConditionalOnClass({ JdbcTemplate.class, JsonMapper.class })
@ConditionalOnSingleCandidate(DataSource.class)
@ConditionalOnBooleanProperty(name = "events.enabled", matchIfMissing = true)
@EnableConfigurationProperties(EventsProperties.class)
public final class EventsAutoConfiguration {

	static final String HEALTH_INDICATOR = "org.springframework.boot.health.contributor.HealthIndicator";

	@Bean
	static SubscriberRegistry eventSubscriberRegistry(ConfigurableListableBeanFactory beanFactory,
			ObjectProvider<JsonMapper> jsonMapper, Environment environment) {
		return new SubscriberRegistry(beanFactory, jsonMapper.getIfAvailable(JsonMapper::new),
				ForwardingRoutes.of(environment, beanFactory));
	}

	@Bean
	static SmartInitializingSingleton eventSubscriberVerifier(ConfigurableListableBeanFactory beanFactory,
			ObjectProvider<SubscriberRegistry> subscribers, ObjectProvider<DataSource> dataSource) {
		return () -> subscribers.ifAvailable((registry) -> {
			registry.verifyAllFound(beanFactory);
			registry.verifyRoutes();
			dataSource.ifUnique((audited) -> registry.resolveTransactions(beanFactory, audited));
		});
	}

	@Bean
	AuditSchema eventAuditSchema(DataSource dataSource, EventsProperties properties) {
		return AuditSchema.resolve(new JdbcTemplate(dataSource), properties.getAudit().getTableName(),
				properties.getAudit().getTrustedRoles());
	}

	@Bean
	EventSchemaInitializer eventSchemaInitializer(DataSource dataSource, AuditSchema schema,
			SubscriberRegistry subscribers, EventsProperties properties) {
		return new EventSchemaInitializer(dataSource, schema, subscribers, properties);
	}

	@Bean
	@ConditionalOnMissingBean
	EventSchemaScript eventSchemaScript(SubscriberRegistry subscribers, EventsProperties properties) {
		return new RenderedEventSchema(subscribers, properties.getAudit());
	}

	@Bean
	SubscriberMethods eventSubscriberMethods(SubscriberRegistry subscribers) {
		return subscribers.invokingHandler();
	}

	@Bean
	DeliveryEngine eventDeliveryEngine(DataSource dataSource, AuditSchema schema, EventSchemaInitializer initializer,
			SubscriberRegistry subscribers, SubscriberMethods subscriberMethods, ObjectProvider<EventHandler> handlers,
			ObjectProvider<DeliveryObserver> observers, ObjectProvider<DataSourcePoolMetadataProvider> pools,
			EventsProperties properties, Environment environment) {
		EventsProperties.Dispatch dispatch = properties.getDispatch();
		EventsProperties.Relay relay = properties.getRelay();
		EventsProperties.Retry retry = properties.getRetry();
		int committingThreads = (dispatch.getMode() == EventsProperties.Mode.ASYNC) ? -1
				: SyncDispatchLimit.of(dataSource, pools, relay.isEnabled(), dispatch.getSyncLimit());
		return new DeliveryEngine(dataSource, schema, initializer.auditedTables(), initializer.subscriptions(),
				eventHandler(handlers, subscriberMethods), observers.getIfUnique(() -> DeliveryObserver.NONE),
				new DeliveryEngine.Settings(committingThreads, dispatch.getThreads(), dispatch.getQueueCapacity(),
						dispatch.getMaxChainDepth(), relay.isEnabled(), relay.getPollInterval(), relay.getBatchSize(),
						relay.getLease(), properties.getRetention(), relay.getSubscriberExpiry(),
						relay.isShareSubscribers(),
						new Backoff(retry.getMaxAttempts(), retry.getInitialDelay(), retry.getMultiplier(),
								retry.getMaxDelay()),
						ClassUtils.isPresent(HEALTH_INDICATOR, EventsAutoConfiguration.class.getClassLoader()),
						Threading.VIRTUAL.isActive(environment)));
	}

	@Bean
	AfterCommitDispatch eventAfterCommitDispatch(DeliveryEngine engine) {
		return engine.afterCommitDispatch();
	}

	@Bean
	Relay eventRelay(DeliveryEngine engine) {
		return engine.relay();
	}

	/**
	 * The application's own EventHandler if it defines one (it may delegate to
	 * SubscriberMethods), else SubscriberMethods.
	 */
	private static EventHandler eventHandler(ObjectProvider<EventHandler> handlers, SubscriberMethods methods) {
		List<EventHandler> own = handlers.orderedStream().filter((handler) -> handler != methods).toList();
		if (own.size() > 1) {
			throw new StartupFailure(
					"The application defines " + own.size() + " EventHandler beans, and events are " + "handed to one",
					"Define one EventHandler (it may delegate to the SubscriberMethods bean, and to "
							+ "others of its own)");
		}
		return own.isEmpty() ? methods : own.get(0);
	}

	@Bean
	EventDeliveries eventDeliveries(DeliveryEngine engine) {
		return engine.deliveries();
	}

	@Bean
	EventLog eventLog(DeliveryEngine engine) {
		return engine.eventLog();
	}

	@Bean
	static ContextDataSourcePostProcessor eventContextDataSourcePostProcessor(
			ConfigurableListableBeanFactory beanFactory) {
		return new ContextDataSourcePostProcessor(beanFactory);
	}

	@Bean
	static SchemaAfterJpaPostProcessor eventSchemaAfterJpaPostProcessor() {
		return new SchemaAfterJpaPostProcessor();
	}

	@Bean
	static TransactionContextPostProcessor eventTransactionContextPostProcessor(ObjectProvider<DataSource> dataSource,
			ObjectProvider<EventSchemaInitializer> schema, ObjectProvider<SubscriberRegistry> subscribers,
			ObjectProvider<IdentityResolver> identities, ObjectProvider<TraceSource> traces,
			ObjectProvider<AfterCommitDispatch> afterCommit) {
		return new TransactionContextPostProcessor(dataSource, schema, subscribers, identities, traces, afterCommit);
	}

	@Bean
	@ConditionalOnMissingBean
	IdentityResolver eventIdentityResolver() {
		return () -> null;
	}

	@Bean
	@ConditionalOnMissingBean
	TraceSource eventTraceSource() {
		return () -> null;
	}

	// member classes are processed before the @Bean methods above, which are fallbacks;
	// EventsTracingAutoConfiguration runs before this one for the same reason

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(name = "org.springframework.security.core.context.SecurityContextHolder")
	static class SecurityIdentityConfiguration {

		@Bean
		@ConditionalOnMissingBean
		IdentityResolver eventIdentityResolver() {
			return new SecurityIdentityResolver();
		}

	}

}
