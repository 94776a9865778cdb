package dev.pgevents.autoconfigure;

import javax.sql.DataSource;

import dev.pgevents.IdentityResolver;
import dev.pgevents.TraceSource;
import dev.pgevents.internal.capture.TransactionContextListener;
import dev.pgevents.internal.dispatch.AfterCommitDispatch;
import dev.pgevents.internal.dispatch.SubscriberRegistry;

import org.springframework.beans.BeanWrapper;
import org.springframework.beans.PropertyAccessorFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.transaction.support.AbstractPlatformTransactionManager;
import org.springframework.transaction.support.ResourceTransactionManager;

/**
 * Attaches a {@link TransactionContextListener} to every transaction manager of the
 * application, auto-configured or its own (JDBC, JPA, ...), so that each of their
 * read-write transactions on the audited database records its context and is dispatched
 * after commit.
 */
final class TransactionContextPostProcessor implements BeanPostProcessor {

	private final ObjectProvider<DataSource> dataSource;

	private final ObjectProvider<EventSchemaInitializer> schema;

	private final ObjectProvider<SubscriberRegistry> subscribers;

	private final ObjectProvider<IdentityResolver> identities;

	private final ObjectProvider<TraceSource> traces;

	private final ObjectProvider<AfterCommitDispatch> afterCommit;

	TransactionContextPostProcessor(ObjectProvider<DataSource> dataSource,
			ObjectProvider<EventSchemaInitializer> schema, ObjectProvider<SubscriberRegistry> subscribers,
			ObjectProvider<IdentityResolver> identities, ObjectProvider<TraceSource> traces,
			ObjectProvider<AfterCommitDispatch> afterCommit) {
		this.dataSource = dataSource;
		this.schema = schema;
		this.subscribers = subscribers;
		this.identities = identities;
		this.traces = traces;
		this.afterCommit = afterCommit;
	}

	@Override
	public Object postProcessAfterInitialization(Object bean, String beanName) {
		if (bean instanceof AbstractPlatformTransactionManager transactionManager
				&& this.schema.getObject().capturesAnything()) {
			attach(transactionManager);
		}
		return bean;
	}

	private void attach(AbstractPlatformTransactionManager transactionManager) {
		DataSource dataSource = this.dataSource.getObject();
		if (!manages(transactionManager, dataSource)) {
			// its transactions are on another database: the audited database's connection
			// bound to the thread then belongs to some other, still open, transaction
			return;
		}
		boolean attached = transactionManager.getTransactionExecutionListeners()
			.stream()
			.anyMatch(TransactionContextListener.class::isInstance);
		if (!attached) {
			transactionManager.addListener(new TransactionContextListener(dataSource, this.identities.getObject(),
					this.traces.getObject(), transactionManager,
					this.subscribers.getObject().isEmpty() ? null : this.afterCommit.getObject(),
					this.schema.getObject().auditedTables()));
		}
	}

	/**
	 * Whether a transaction manager's transactions are on {@code dataSource}: its
	 * resource (JDBC managers) or its {@code dataSource} property (JPA and Hibernate
	 * managers).
	 */
	static boolean manages(AbstractPlatformTransactionManager transactionManager, DataSource dataSource) {
		if (transactionManager instanceof ResourceTransactionManager resources
				&& resources.getResourceFactory() == dataSource) {
			return true;
		}
		BeanWrapper properties = PropertyAccessorFactory.forBeanPropertyAccess(transactionManager);
		return properties.isReadableProperty("dataSource") && properties.getPropertyValue("dataSource") == dataSource;
	}

}
