package dev.pgevents.internal.dispatch;

import java.lang.reflect.Method;
import java.sql.Connection;
import java.util.Arrays;
import java.util.Objects;

import javax.sql.DataSource;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.NoSuchBeanDefinitionException;
import org.springframework.beans.factory.annotation.BeanFactoryAnnotationUtils;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.core.KotlinDetector;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.TransactionStatus;
import org.springframework.transaction.annotation.AnnotationTransactionAttributeSource;
import org.springframework.transaction.interceptor.TransactionAttribute;
import org.springframework.transaction.support.DefaultTransactionDefinition;
import org.springframework.util.ReflectionUtils;
import org.springframework.util.StringUtils;

/**
 * The transaction in which a {@code @Transactional} subscriber method's writes and the
 * record of its delivery commit together, when its transaction manager is one of the
 * audited DataSource: the starter begins it (always a new one: after commit, the
 * committed transaction's resources are still bound to the thread), records the delivery
 * first, calls the method, whose own {@code @Transactional} joins, and commits. A change
 * whose delivery committed is then never applied again, on any path, and a failed call
 * leaves nothing behind.
 */
final class SubscriberTransaction {

	private static final Log logger = LogFactory.getLog(SubscriberTransaction.class);

	private static final AnnotationTransactionAttributeSource ATTRIBUTES = new AnnotationTransactionAttributeSource(
			false);

	private final PlatformTransactionManager manager;

	/** The manager's DataSource, to which its transaction's connection is bound. */
	private final DataSource dataSource;

	private final TransactionDefinition definition;

	private SubscriberTransaction(PlatformTransactionManager manager, DataSource dataSource,
			TransactionDefinition definition) {
		this.manager = manager;
		this.dataSource = dataSource;
		this.definition = definition;
	}

	/**
	 * The transaction of a subscriber method, if it has one that can record its
	 * deliveries; logs once, at INFO, why a {@code @Transactional} one cannot.
	 * @param subscriber the subscriber's name
	 * @param method the method
	 * @param beanClass the class of its bean (for a {@code @Transactional} class)
	 * @param beanFactory where the transaction managers are
	 * @param audited the audited DataSource
	 * @return the transaction, or {@code null} when deliveries are at least once
	 */
	static @Nullable SubscriberTransaction of(String subscriber, Method method, Class<?> beanClass,
			ConfigurableListableBeanFactory beanFactory, DataSource audited) {
		TransactionAttribute attribute = ATTRIBUTES.getTransactionAttribute(method, beanClass);
		if (attribute == null || attribute.isReadOnly()
				|| attribute.getPropagationBehavior() == TransactionDefinition.PROPAGATION_NEVER
				|| attribute.getPropagationBehavior() == TransactionDefinition.PROPAGATION_NOT_SUPPORTED) {
			return null;
		}
		if (KotlinDetector.isSuspendingFunction(method)) {
			logger.info("Subscriber '" + subscriber + "' is a @Transactional suspend function: a coroutine may "
					+ "leave the thread that its transaction is bound to, so its deliveries are at least once");
			return null;
		}
		String qualifier = attribute.getQualifier();
		PlatformTransactionManager manager;
		try {
			manager = StringUtils.hasText(qualifier) ? BeanFactoryAnnotationUtils.qualifiedBeanOfType(beanFactory,
					PlatformTransactionManager.class, qualifier)
					: beanFactory.getBean(PlatformTransactionManager.class);
		}
		catch (NoSuchBeanDefinitionException ex) {
			logger.info("Subscriber '" + subscriber + "' is @Transactional, but no single PlatformTransactionManager"
					+ (StringUtils.hasText(qualifier) ? " '" + qualifier + "'" : "")
					+ " manages it: its deliveries are at least once (" + ex.getMessage() + ")");
			return null;
		}
		String managerName = managerName(beanFactory, manager);
		DataSource managed = dataSourceOf(manager);
		if (managed != audited) {
			logger.info("Subscriber '" + subscriber + "' is @Transactional on transaction manager '" + managerName
					+ "' (" + manager.getClass().getName() + "), which does not manage the audited DataSource: its "
					+ "deliveries are at least once, not recorded in its transaction");
			return null;
		}
		if (attribute.getPropagationBehavior() == TransactionDefinition.PROPAGATION_REQUIRES_NEW) {
			logger.info("Subscriber '" + subscriber + "' is @Transactional(propagation = REQUIRES_NEW) on transaction "
					+ "manager '" + managerName + "': its writes commit apart from the record of its delivery, "
					+ "so its deliveries are at least once");
			return null;
		}
		DefaultTransactionDefinition definition = new DefaultTransactionDefinition(
				TransactionDefinition.PROPAGATION_REQUIRES_NEW);
		definition.setIsolationLevel(attribute.getIsolationLevel());
		definition.setTimeout(attribute.getTimeout());
		definition.setName("events subscriber " + subscriber);
		return new SubscriberTransaction(manager, Objects.requireNonNull(managed), definition);
	}

	/**
	 * Deliver a change in a new transaction that records it, unless a delivery of it
	 * committed already.
	 * @param ledger records the delivery
	 * @param auditId the change
	 * @param subscriber the subscriber
	 * @param call the call, whose transaction joins this one
	 * @throws Exception what the call or the commit threw (all rolled back)
	 */
	void deliver(DeliveryLedger ledger, long auditId, String subscriber, DeliveryObserver.Call call) throws Exception {
		TransactionStatus status = this.manager.getTransaction(this.definition);
		try {
			Connection connection = DataSourceUtils.getConnection(this.dataSource);
			if (ledger.recordDelivered(connection, auditId, subscriber)) {
				call.run();
			}
		}
		catch (Exception | Error ex) {
			try {
				this.manager.rollback(status);
			}
			catch (RuntimeException rollback) {
				ex.addSuppressed(rollback);
			}
			throw ex;
		}
		this.manager.commit(status);
	}

	/**
	 * The DataSource whose connections a manager binds to its transactions: a
	 * {@code DataSourceTransactionManager}'s, and a JPA or Hibernate one's where it
	 * exposes it ({@code getDataSource()}).
	 */
	private static @Nullable DataSource dataSourceOf(PlatformTransactionManager manager) {
		Method getter = ReflectionUtils.findMethod(manager.getClass(), "getDataSource");
		if (getter == null || !DataSource.class.isAssignableFrom(getter.getReturnType())) {
			return null;
		}
		return (DataSource) ReflectionUtils.invokeMethod(getter, manager);
	}

	private static String managerName(ConfigurableListableBeanFactory beanFactory, PlatformTransactionManager manager) {
		return Arrays.stream(beanFactory.getBeanNamesForType(PlatformTransactionManager.class))
			.filter((name) -> beanFactory.getBean(name) == manager)
			.findFirst()
			.orElse(manager.getClass().getSimpleName());
	}

}
