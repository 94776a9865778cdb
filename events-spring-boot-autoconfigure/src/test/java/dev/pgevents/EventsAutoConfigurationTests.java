package dev.pgevents;

import java.util.List;

import javax.sql.DataSource;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

import dev.pgevents.TraceSource;
import dev.pgevents.autoconfigure.EventsAutoConfiguration;
import dev.pgevents.autoconfigure.EventsEndpointAutoConfiguration;
import dev.pgevents.autoconfigure.EventsHealthAutoConfiguration;
import dev.pgevents.autoconfigure.EventsMetricsAutoConfiguration;
import dev.pgevents.autoconfigure.EventsTracingAutoConfiguration;
import dev.pgevents.autoconfigure.EventsWithoutDataSourceAutoConfiguration;
import dev.pgevents.autoconfigure.EventsProperties;
import dev.pgevents.internal.dispatch.AfterCommitDispatch;
import dev.pgevents.internal.dispatch.DeliveryObserver;
import dev.pgevents.internal.dispatch.SubscriberRegistry;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DriverManagerDataSource;
import org.springframework.jdbc.support.JdbcTransactionManager;
import org.springframework.transaction.support.AbstractPlatformTransactionManager;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every condition and override of the auto-configuration.
 */
class EventsAutoConfigurationTests {

	private static final String[] EXPOSED = { "spring.jmx.enabled=true",
			"management.endpoints.jmx.exposure.include=events" };

	static String url;

	final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(DataSourceAutoConfiguration.class,
				DataSourceTransactionManagerAutoConfiguration.class, JacksonAutoConfiguration.class,
				EventsAutoConfiguration.class, EventsMetricsAutoConfiguration.class,
				EventsHealthAutoConfiguration.class, EventsEndpointAutoConfiguration.class,
				EventsTracingAutoConfiguration.class))
		.withPropertyValues("spring.datasource.url=" + url);

	@BeforeAll
	static void database() {
		url = TestDatabase.create();
		new JdbcTemplate(new DriverManagerDataSource(url))
			.execute("CREATE TABLE member (id bigint PRIMARY KEY, name text)");
	}

	@Test
	void defaultsProvideEveryBean() {
		this.runner.withUserConfiguration(Subscribed.class).run((context) -> {
			assertThat(context).hasSingleBean(SubscriberRegistry.class)
				.hasSingleBean(EventHandler.class)
				.hasSingleBean(IdentityResolver.class)
				.hasSingleBean(TraceSource.class)
				.hasSingleBean(AfterCommitDispatch.class)
				.hasSingleBean(EventsProperties.class);
			assertThat(context.getBean(EventsProperties.class).getDispatch().getMode())
				.isEqualTo(EventsProperties.Mode.SYNC);
			assertThat(context.getBean(AbstractPlatformTransactionManager.class).getTransactionExecutionListeners())
				.hasSize(1);
		});
	}

	@Test
	void disabledByProperty() {
		this.runner.withPropertyValues(EXPOSED)
			.withPropertyValues("events.enabled=false")
			.withUserConfiguration(Subscribed.class)
			.run((context) -> assertThat(context).doesNotHaveBean(SubscriberRegistry.class)
				.doesNotHaveBean(AfterCommitDispatch.class)
				.doesNotHaveBean(EventHandler.class)
				.doesNotHaveBean(DeliveryObserver.class)
				.doesNotHaveBean("eventsHealthIndicator")
				.doesNotHaveBean("eventsEndpoint")
				.doesNotHaveBean(TraceSource.class));
	}

	@Test
	void metricsObserveTheDeliveries() {
		this.runner
			.withBean(io.micrometer.core.instrument.MeterRegistry.class,
					io.micrometer.core.instrument.simple.SimpleMeterRegistry::new)
			.run((context) -> assertThat(context.getBean(DeliveryObserver.class).getClass().getSimpleName())
				.isEqualTo("MicrometerDeliveryObserver"));
	}

	@Test
	void anApplicationDeliveryObserverReplacesTheMetrics() {
		DeliveryObserver own = new DeliveryObserver() {
		};
		this.runner.withBean(DeliveryObserver.class, () -> own)
			.run((context) -> assertThat(context.getBean(DeliveryObserver.class)).isSameAs(own));
	}

	@Test
	void metricsBackOffWithoutMicrometer() {
		this.runner.withClassLoader(new FilteredClassLoader("io.micrometer.core"))
			.run((context) -> assertThat(context).hasNotFailed()
				.hasSingleBean(AfterCommitDispatch.class)
				.doesNotHaveBean(DeliveryObserver.class));
	}

	@Test
	void theHealthCheckIsOnUnlessTurnedOff() {
		this.runner.run((context) -> assertThat(context).hasBean("eventsHealthIndicator"));
		this.runner.withPropertyValues("management.health.events.enabled=false")
			.run((context) -> assertThat(context).hasSingleBean(AfterCommitDispatch.class)
				.doesNotHaveBean("eventsHealthIndicator"));
		this.runner.withClassLoader(new FilteredClassLoader(HealthIndicator.class))
			.run((context) -> assertThat(context).hasNotFailed()
				.hasSingleBean(AfterCommitDispatch.class)
				.doesNotHaveBean("eventsHealthIndicator"));
	}

	@Test
	void anApplicationHealthIndicatorNamedEventsHealthIndicatorReplacesIt() {
		HealthIndicator own = () -> org.springframework.boot.health.contributor.Health.up().build();
		this.runner.withBean("eventsHealthIndicator", HealthIndicator.class, () -> own)
			.run((context) -> assertThat(context.getBean("eventsHealthIndicator")).isSameAs(own));
	}

	@Test
	void theEndpointIsThereWhenExposed() {
		this.runner.run((context) -> assertThat(context).doesNotHaveBean("eventsEndpoint"));
		this.runner.withPropertyValues(EXPOSED).run((context) -> assertThat(context).hasBean("eventsEndpoint"));
		this.runner.withPropertyValues(EXPOSED)
			.withPropertyValues("management.endpoint.events.access=NONE")
			.run((context) -> assertThat(context).doesNotHaveBean("eventsEndpoint"));
		this.runner.withPropertyValues(EXPOSED)
			.withClassLoader(new FilteredClassLoader("org.springframework.boot.actuate.endpoint"))
			.run((context) -> assertThat(context).hasNotFailed()
				.hasSingleBean(AfterCommitDispatch.class)
				.doesNotHaveBean("eventsEndpoint"));
	}

	@Test
	void withoutASingleDataSourceNothingIsConfigured() {
		new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(JacksonAutoConfiguration.class, EventsAutoConfiguration.class,
					EventsMetricsAutoConfiguration.class, EventsHealthAutoConfiguration.class,
					EventsEndpointAutoConfiguration.class, EventsTracingAutoConfiguration.class))
			.withPropertyValues(EXPOSED)
			.run((context) -> assertThat(context).hasNotFailed()
				.doesNotHaveBean(DeliveryObserver.class)
				.doesNotHaveBean("eventsHealthIndicator")
				.doesNotHaveBean("eventsEndpoint")
				.doesNotHaveBean(TraceSource.class));
	}

	@Test
	void backsOffWithoutADataSource() {
		new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(EventsAutoConfiguration.class,
					EventsWithoutDataSourceAutoConfiguration.class))
			.run((context) -> assertThat(context).hasNotFailed().doesNotHaveBean(AfterCommitDispatch.class));
	}

	@Test
	void subscribersWithoutADataSourceFailTheStartupNamingThem() {
		new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(EventsAutoConfiguration.class,
					EventsWithoutDataSourceAutoConfiguration.class))
			.withUserConfiguration(Subscribed.class)
			.run((context) -> assertThat(context).getFailure()
				.hasMessageContaining("[onCreated] would never be called")
				.hasMessageContaining("no JDBC DataSource"));
	}

	@Test
	void subscribersBesideTwoDataSourcesWithoutAPrimaryOneFailTheStartupSayingWhy() {
		new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(EventsAutoConfiguration.class,
					EventsWithoutDataSourceAutoConfiguration.class))
			.withUserConfiguration(Subscribed.class)
			.withBean("orders", DataSource.class, () -> new DriverManagerDataSource(url))
			.withBean("billing", DataSource.class, () -> new DriverManagerDataSource(url))
			.run((context) -> assertThat(context).getFailure()
				.hasMessageContaining("[onCreated] would never be called")
				.hasMessageContaining("2 DataSources [orders, billing] and none is @Primary"));
	}

	@Test
	void backsOffWithoutJdbc() {
		this.runner.withClassLoader(new FilteredClassLoader(JdbcTemplate.class))
			.run((context) -> assertThat(context).doesNotHaveBean(AfterCommitDispatch.class));
	}

	@Test
	void backsOffWithoutJackson() {
		this.runner.withClassLoader(new FilteredClassLoader(JsonMapper.class))
			.run((context) -> assertThat(context).doesNotHaveBean(AfterCommitDispatch.class));
	}

	@Test
	void anApplicationEventHandlerReplacesTheDefaultWhichStaysABean() {
		this.runner.withUserConfiguration(Subscribed.class, CustomHandler.class)
			.run((context) -> assertThat(context.getBeansOfType(EventHandler.class).values()).containsExactlyInAnyOrder(
					context.getBean(CustomHandler.class).handler, context.getBean(SubscriberMethods.class)));
	}

	@Test
	void twoApplicationEventHandlersFailTheStartup() {
		this.runner.withUserConfiguration(Subscribed.class, CustomHandler.class)
			.withBean("another", EventHandler.class, () -> (subscriber, event, traceparent) -> {
			})
			.run((context) -> assertThat(context).hasFailed()
				.getFailure()
				.rootCause()
				.hasMessageContaining("defines 2 EventHandler beans"));
	}

	@Test
	void anApplicationIdentityResolverReplacesTheDefault() {
		this.runner.withBean(IdentityResolver.class, () -> () -> "me")
			.run((context) -> assertThat(context.getBean(IdentityResolver.class).currentIdentityId()).isEqualTo("me"));
	}

	@Test
	void withoutSpringSecurityTheIdentityIsNull() {
		this.runner.withClassLoader(new FilteredClassLoader("org.springframework.security"))
			.run((context) -> assertThat(context.getBean(IdentityResolver.class).currentIdentityId()).isNull());
	}

	@Test
	void withSpringSecurityTheIdentityIsTheAuthenticatedName() {
		this.runner.run((context) -> {
			var securityContext = org.springframework.security.core.context.SecurityContextHolder.getContext();
			securityContext
				.setAuthentication(org.springframework.security.authentication.UsernamePasswordAuthenticationToken
					.authenticated("ada", null, List.of()));
			try {
				assertThat(context.getBean(IdentityResolver.class).currentIdentityId()).isEqualTo("ada");
			}
			finally {
				org.springframework.security.core.context.SecurityContextHolder.clearContext();
			}
		});
	}

	@Test
	void withoutMicrometerTracingTheDatabaseGivesEachTransactionItsTrace() {
		this.runner.withClassLoader(new FilteredClassLoader("io.micrometer.tracing"))
			.run((context) -> assertThat(context.getBean(TraceSource.class).currentTrace()).isNull());
	}

	@Test
	void anApplicationTraceSourceReplacesTheTracer() {
		TraceSource own = () -> new Trace("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7");
		this.runner.withBean(io.micrometer.tracing.Tracer.class, () -> io.micrometer.tracing.Tracer.NOOP)
			.withBean(TraceSource.class, () -> own)
			.run((context) -> assertThat(context.getBean(TraceSource.class)).isSameAs(own));
	}

	@Test
	void aTracerSuppliesTheCurrentTrace() {
		this.runner.withBean(io.micrometer.tracing.Tracer.class, () -> io.micrometer.tracing.Tracer.NOOP)
			.run((context) -> assertThat(context.getBean(TraceSource.class).getClass().getSimpleName())
				.isEqualTo("MicrometerTraceSource"));
	}

	@Test
	void asyncModeIsConfigurable() {
		this.runner.withPropertyValues("events.dispatch.mode=async", "events.dispatch.threads=3")
			.run((context) -> assertThat(context.getBean(EventsProperties.class).getDispatch())
				.satisfies((dispatch) -> {
					assertThat(dispatch.getMode()).isEqualTo(EventsProperties.Mode.ASYNC);
					assertThat(dispatch.getThreads()).isEqualTo(3);
				}));
	}

	@Test
	void theApplicationsOwnTransactionManagersGetTheContextListenerToo() {
		this.runner.withUserConfiguration(Subscribed.class, OwnTransactionManager.class)
			.run((context) -> assertThat(
					context.getBean("ownTransactionManager", AbstractPlatformTransactionManager.class)
						.getTransactionExecutionListeners())
				.hasSize(1));
	}

	@Test
	void withNothingAuditedTransactionsPayNothing() {
		this.runner.run((context) -> assertThat(
				context.getBean(AbstractPlatformTransactionManager.class).getTransactionExecutionListeners())
			.isEmpty());
	}

	@Configuration(proxyBeanMethods = false)
	static class Subscribed {

		@EventSubscriber("member.created")
		void onCreated(Event event) {
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class CustomHandler {

		final EventHandler handler = (subscriber, event, traceparent) -> {
		};

		@Bean
		EventHandler brokerHandler() {
			return this.handler;
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class OwnTransactionManager {

		@Bean
		JdbcTransactionManager ownTransactionManager(javax.sql.DataSource dataSource) {
			return new JdbcTransactionManager(dataSource);
		}

	}

}
