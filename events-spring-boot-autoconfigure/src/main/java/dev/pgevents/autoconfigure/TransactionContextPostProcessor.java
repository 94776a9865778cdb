package dev.pgevents.autoconfigure;

import javax.sql.DataSource;

import dev.pgevents.IdentityResolver;
import dev.pgevents.capture.TraceSource;
import dev.pgevents.capture.TransactionContextListener;
import dev.pgevents.dispatch.SendEvents;
import dev.pgevents.dispatch.SubscriberRegistry;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.transaction.support.AbstractPlatformTransactionManager;

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

	private final ObjectProvider<SendEvents> sendEvents;

	TransactionContextPostProcessor(ObjectProvider<DataSource> dataSource, ObjectProvider<EventSchemaInitializer> schema,
			ObjectProvider<SubscriberRegistry> subscribers, ObjectProvider<IdentityResolver> identities,
			ObjectProvider<TraceSource> traces, ObjectProvider<SendEvents> sendEvents) {
		this.dataSource = dataSource;
		this.schema = schema;
		this.subscribers = subscribers;
		this.identities = identities;
		this.traces = traces;
		this.sendEvents = sendEvents;
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
		boolean attached = transactionManager.getTransactionExecutionListeners()
			.stream()
			.anyMatch(TransactionContextListener.class::isInstance);
		if (!attached) {
			transactionManager.addListener(new TransactionContextListener(this.dataSource.getObject(),
					this.identities.getObject(), this.traces.getObject(), transactionManager,
					this.subscribers.getObject().isEmpty() ? null : this.sendEvents.getObject()));
		}
	}

}
