package dev.pgevents.internal.dispatch;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import javax.sql.DataSource;

import tools.jackson.databind.json.JsonMapper;

import dev.pgevents.Event;
import dev.pgevents.EventHandler;
import dev.pgevents.EventSubscriber;
import dev.pgevents.SubscriberMethods;
import dev.pgevents.internal.capture.AuditedTable;

import org.springframework.aop.support.AopUtils;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.core.annotation.AnnotationUtils;
import org.springframework.util.ClassUtils;

/**
 * The application's {@link EventSubscriber} methods and forwarding routes, found from the
 * bean definitions before any bean is created (so the tables they name are audited before
 * the application writes to them) and validated at once. Not changed after construction:
 * once the audited tables are known, {@link #subscriptions} makes what the delivery
 * engine routes events with.
 */
public final class SubscriberRegistry {

	private final Map<String, Subscriber> byName = new LinkedHashMap<>();

	private final Map<String, List<Subscriber>> byTable = new LinkedHashMap<>();

	/**
	 * Find and validate the subscriber methods of every bean in {@code beanFactory}, and
	 * the forwarding routes.
	 * @param beanFactory the application's bean factory
	 * @param jsonMapper binds event data to typed parameters
	 * @param routes the forwarding routes, each a subscriber taking its events in order
	 * @throws dev.pgevents.internal.support.StartupFailure when a method or a route is
	 * declared wrongly
	 */
	public SubscriberRegistry(ConfigurableListableBeanFactory beanFactory, JsonMapper jsonMapper, List<Route> routes) {
		for (String beanName : beanFactory.getBeanDefinitionNames()) {
			if (beanFactory.getBeanDefinition(beanName).getRole() == BeanDefinition.ROLE_INFRASTRUCTURE) {
				continue;
			}
			Class<?> type = beanFactory.getType(beanName, false);
			if (type == null || !AnnotationUtils.isCandidateClass(type, EventSubscriber.class)) {
				continue;
			}
			SubscriberDeclarations.annotated(type)
				.forEach((method,
						annotation) -> add(SubscriberDeclarations.of(method, annotation, new SubscriberMethod(method,
								ClassUtils.getUserClass(type), () -> beanFactory.getBean(beanName), jsonMapper))));
		}
		for (Route route : routes) {
			add(SubscriberDeclarations.of(route));
		}
	}

	/**
	 * Check that every singleton's subscriber methods were found from the bean
	 * definitions: one whose bean type the definition hides (a {@code @Bean} method
	 * declared to return {@code Object} or an interface) would never be called.
	 * @param beanFactory the application's bean factory, its singletons created
	 * @throws SubscriberDeclarationException for such a method
	 */
	public void verifyAllFound(ConfigurableListableBeanFactory beanFactory) {
		Set<Method> found = new HashSet<>();
		this.byName.values().forEach((subscriber) -> {
			if (subscriber.recipient() instanceof SubscriberMethod method) {
				found.add(method.method());
			}
		});
		for (String beanName : beanFactory.getSingletonNames()) {
			Object bean = beanFactory.getSingleton(beanName);
			if (bean == null) {
				continue;
			}
			Class<?> type = AopUtils.getTargetClass(bean);
			if (!AnnotationUtils.isCandidateClass(type, EventSubscriber.class)) {
				continue;
			}
			SubscriberDeclarations.annotated(type)
				.keySet()
				.stream()
				.filter((method) -> !found.contains(method))
				.findFirst()
				.ifPresent((method) -> {
					throw new SubscriberDeclarationException(method, "was not found at startup because the type of "
							+ "bean '" + beanName + "' cannot be known from its definition (a @Bean method that "
							+ "returns Object or an interface?). Declare the bean's concrete class as the @Bean "
							+ "method's return type");
				});
		}
	}

	/**
	 * Make each forwarding route's forwarder, now that the beans of the broker clients
	 * exist, so that a route that cannot send fails the startup.
	 * @throws dev.pgevents.internal.support.StartupFailure for such a route
	 */
	public void verifyRoutes() {
		this.byName.values().forEach((subscriber) -> {
			if (subscriber.recipient() instanceof ForwardingRoute route) {
				route.resolve();
			}
		});
	}

	/**
	 * Find the subscriber methods whose deliveries commit in their own transaction, now
	 * that the transaction managers exist; log, once each, the {@code @Transactional}
	 * ones whose deliveries stay at least once.
	 * @param beanFactory the application's bean factory
	 * @param audited the audited DataSource
	 */
	public void resolveTransactions(ConfigurableListableBeanFactory beanFactory, DataSource audited) {
		this.byName.forEach((name, subscriber) -> {
			if (subscriber.recipient() instanceof SubscriberMethod method) {
				method.resolveTransaction(name, beanFactory, audited);
			}
		});
	}

	/**
	 * Close the forwarding routes' forwarders: called as the context closes, after the
	 * relay, which uses them, has stopped.
	 */
	public void close() {
		this.byName.values().forEach((subscriber) -> {
			if (subscriber.recipient() instanceof ForwardingRoute route) {
				route.close();
			}
		});
	}

	private void add(Subscriber subscriber) {
		Subscriber existing = this.byName.putIfAbsent(subscriber.name(), subscriber);
		if (existing != null) {
			throw subscriber.recipient()
				.invalid("the subscriber name '" + subscriber.name() + "' is taken by " + existing.describe()
						+ ". Subscriber names must be unique: give one of them another with "
						+ "@EventSubscriber(value = ..., name = \"...\")" + ", or merge two routes to one "
						+ "destination into one");
		}
		for (String eventName : subscriber.eventNames()) {
			String table = eventName.substring(0, eventName.lastIndexOf('.'));
			List<Subscriber> users = this.byTable.computeIfAbsent(table, (key) -> new ArrayList<>());
			if (!users.contains(subscriber)) {
				users.add(subscriber);
			}
		}
	}

	/**
	 * Complete the subscribers once the audited tables are known: expand the
	 * {@code *.<op>} patterns to every audited table, and check the {@code changed}
	 * fields against the tables' columns.
	 * @param audited every audited table, columns left out of the audit excluded
	 * @return the subscribers of each event
	 * @throws SubscriberDeclarationException when a pattern matches no table, or a
	 * subscriber filters on a field that none of its updated tables has
	 */
	public Subscriptions subscriptions(Collection<AuditedTable> audited) {
		Map<String, Subscriber> complete = new LinkedHashMap<>();
		List<String> tables = audited.stream().map(AuditedTable::name).toList();
		for (Subscriber subscriber : this.byName.values()) {
			Set<String> eventNames = new LinkedHashSet<>(subscriber.eventNames());
			for (String operation : subscriber.anyTableOperations()) {
				if (audited.isEmpty()) {
					throw subscriber.recipient()
						.invalid("event pattern '*." + operation
								+ "' matches no table: no table is audited. Name the tables in events.audit.tables, "
								+ "or name the events exactly");
				}
				eventNames.addAll(new EventPattern(null, operation).names(tables));
			}
			Subscriber resolved = subscriber.withEventNames(List.copyOf(eventNames));
			if (!resolved.changed().isEmpty()) {
				verifyChanged(resolved, audited);
			}
			complete.put(resolved.name(), resolved);
		}
		return new Subscriptions(complete);
	}

	private static void verifyChanged(Subscriber subscriber, Collection<AuditedTable> audited) {
		Set<String> fields = new LinkedHashSet<>();
		boolean updates = false;
		for (AuditedTable table : audited) {
			if (subscriber.eventNames().contains(table.name() + "." + Event.UPDATED)) {
				updates = true;
				table.columns().forEach((column) -> fields.add(EventFactory.toLowerCamel(column)));
			}
		}
		if (!updates) {
			throw subscriber.recipient()
				.invalid("filters on changed fields " + subscriber.changed()
						+ " but takes no update event: 'changed' applies to <table>.updated events");
		}
		for (String field : subscriber.changed()) {
			if (!fields.contains(field)) {
				throw subscriber.recipient()
					.invalid("filters on the changed field '" + field
							+ "', which none of its updated tables has (their " + "fields: " + String.join(", ", fields)
							+ "). Name fields as in target.data, " + "in lowerCamelCase");
			}
		}
	}

	/**
	 * The tables named by subscribers' events.
	 * @return the table names, in the order first named
	 */
	public Set<String> tables() {
		return this.byTable.keySet();
	}

	/**
	 * Whether a subscriber takes the events of {@code table} in order: one that names
	 * them, or that takes an operation of every table.
	 * @param table a table as events name it
	 * @return whether rows of the table are delivered in order to some subscriber
	 */
	public boolean takesInOrder(String table) {
		return this.byName.values()
			.stream()
			.filter(Subscriber::ordered)
			.anyMatch((subscriber) -> !subscriber.anyTableOperations().isEmpty()
					|| this.byTable.getOrDefault(table, List.of()).contains(subscriber));
	}

	/**
	 * The subscribers that take each row's events in order.
	 * @return their names
	 */
	public List<String> orderedNames() {
		return this.byName.values().stream().filter(Subscriber::ordered).map(Subscriber::name).toList();
	}

	/**
	 * Describe the subscriber methods whose events name {@code table}, for error
	 * messages.
	 * @param table a table name from {@link #tables()}
	 * @return the methods, described
	 */
	public String describeSubscribersOf(String table) {
		return String.join(", ",
				this.byTable.getOrDefault(table, List.of()).stream().map(Subscriber::describe).toList());
	}

	/**
	 * Whether there are no subscribers.
	 * @return whether there are none
	 */
	public boolean isEmpty() {
		return this.byName.isEmpty();
	}

	/**
	 * The subscriber names.
	 * @return the names
	 */
	public List<String> names() {
		return List.copyOf(this.byName.keySet());
	}

	/**
	 * Each subscriber's method.
	 * @return subscriber name to its bean class and method
	 */
	public Map<String, String> describe() {
		Map<String, String> methods = new LinkedHashMap<>();
		this.byName.forEach((name, subscriber) -> methods.put(name, subscriber.describe()));
		return methods;
	}

	/**
	 * The default {@link EventHandler}: calls the subscriber method of the given name.
	 * @return the handler, for the application's own to delegate to
	 */
	public SubscriberMethods invokingHandler() {
		return (subscriber, event, traceparent) -> {
			Subscriber target = this.byName.get(subscriber);
			if (target == null) {
				throw new IllegalStateException("No @EventSubscriber named '" + subscriber + "' in this application");
			}
			target.invoke(event);
		};
	}

}
