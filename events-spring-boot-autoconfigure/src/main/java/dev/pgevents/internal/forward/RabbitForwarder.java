package dev.pgevents.internal.forward;

import java.time.Duration;
import java.util.Date;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.jspecify.annotations.Nullable;

import dev.pgevents.Event;
import dev.pgevents.internal.support.StartupFailure;
import dev.pgevents.internal.dispatch.Forwarder;
import dev.pgevents.internal.dispatch.UnreachableBrokerException;

import org.springframework.amqp.AmqpConnectException;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.core.MessageDeliveryMode;
import org.springframework.amqp.core.MessageProperties;
import org.springframework.amqp.core.ReturnedMessage;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.amqp.rabbit.connection.CorrelationData;
import org.springframework.amqp.rabbit.core.RabbitTemplate;
import org.springframework.beans.factory.NoSuchBeanDefinitionException;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;

/**
 * Sends a route's events to a RabbitMQ exchange: the event as JSON, with the message
 * properties of the event (id, type, time, source), persistent, routed by the event name
 * unless the route sets a routing key. An event counts as delivered once the broker
 * confirmed it; one it could not route (mandatory, returned) or refused is a failure.
 */
public final class RabbitForwarder implements Forwarder {

	/** A confirm that never comes (a connection that hangs) fails the send after this. */
	private static final Duration CONFIRM_TIMEOUT = Duration.ofSeconds(30);

	private final RabbitTemplate template;

	private final String exchange;

	private final @Nullable String routingKey;

	private final CloudEvent format;

	/** The messages of the batch being sent (the relay's thread alone sends). */
	private final List<Pending> batch = new ArrayList<>();

	private RabbitForwarder(RabbitTemplate template, String exchange, @Nullable String routingKey, CloudEvent format) {
		this.template = template;
		this.exchange = exchange;
		this.routingKey = routingKey;
		this.format = format;
	}

	/**
	 * The forwarder of a route.
	 * @param beanFactory where the template is found
	 * @param property the route's property, for messages
	 * @param templateName the template bean's name, or {@code null} for the one there is
	 * @param exchange the exchange
	 * @param routingKey the routing key, or {@code null} for the event name
	 * @param source the CloudEvents source
	 * @return the forwarder
	 * @throws StartupFailure when there is no such template, or its connections do not
	 * confirm and return messages
	 */
	public static RabbitForwarder of(ConfigurableListableBeanFactory beanFactory, String property,
			@Nullable String templateName, String exchange, @Nullable String routingKey, String source) {
		String route = "Forwarding route " + property + " (exchange '" + exchange + "')";
		RabbitTemplate template;
		try {
			template = (templateName != null) ? beanFactory.getBean(templateName, RabbitTemplate.class)
					: beanFactory.getBean(RabbitTemplate.class);
		}
		catch (NoSuchBeanDefinitionException ex) {
			throw new StartupFailure(
					route + " finds "
							+ ((templateName != null) ? "no RabbitTemplate bean named '" + templateName + "'"
									: "no single RabbitTemplate bean: " + ex.getMessage()),
					"Configure RabbitMQ (spring.rabbitmq.*) with spring-boot-starter-amqp, or name a RabbitTemplate "
							+ "bean in " + property + ".template");
		}
		ConnectionFactory connections = template.getConnectionFactory();
		if (!connections.isPublisherConfirms() || !connections.isPublisherReturns()) {
			throw new StartupFailure(
					route + " needs publisher confirms and returns: a message counts as delivered only once the "
							+ "broker confirmed it, and one it could not route is a failure",
					"Set spring.rabbitmq.publisher-confirm-type=correlated and spring.rabbitmq.publisher-returns=true");
		}
		// a template of its own: mandatory, whatever the application's template sets
		RabbitTemplate forwarding = new RabbitTemplate(connections);
		forwarding.setMandatory(true);
		return new RabbitForwarder(forwarding, exchange, routingKey, new CloudEvent(source));
	}

	@Override
	public CompletableFuture<?> send(Event event, String traceparent) {
		MessageProperties properties = new MessageProperties();
		properties.setMessageId(event.id());
		properties.setType(event.eventName());
		properties.setContentType(MessageProperties.CONTENT_TYPE_JSON);
		properties.setTimestamp(Date.from(event.occurredAt()));
		properties.setAppId(this.format.source());
		properties.setDeliveryMode(MessageDeliveryMode.PERSISTENT);
		properties.setHeader(CloudEvent.TRACEPARENT, traceparent);
		properties.setHeader("table", event.table());
		CorrelationData correlation = new CorrelationData(event.id());
		this.batch.add(new Pending((this.routingKey != null) ? this.routingKey : event.eventName(),
				new Message(this.format.json(event), properties), correlation));
		return correlation.getFuture().thenApply((confirm) -> {
			if (!confirm.ack()) {
				throw new IllegalStateException("The broker did not confirm the message to exchange '" + this.exchange
						+ "': " + confirm.reason());
			}
			ReturnedMessage returned = correlation.getReturned();
			if (returned != null) {
				throw new IllegalStateException("The broker could not route the message to exchange '" + this.exchange
						+ "' with routing key '" + returned.getRoutingKey() + "': " + returned.getReplyCode() + " "
						+ returned.getReplyText());
			}
			return confirm;
		});
	}

	/**
	 * Publish the batch on one channel and wait for its confirms there: a channel with
	 * confirms outstanding does not go back to the connection factory's cache, so sending
	 * each message on its own would open a channel per message.
	 */
	@Override
	public void flush() {
		if (this.batch.isEmpty()) {
			return;
		}
		List<Pending> sending = List.copyOf(this.batch);
		this.batch.clear();
		CompletableFuture<?>[] confirms = sending.stream()
			.map((pending) -> pending.correlation().getFuture())
			.toArray(CompletableFuture[]::new);
		try {
			this.template.invoke((operations) -> {
				sending.forEach((pending) -> operations.send(this.exchange, pending.routingKey(), pending.message(),
						pending.correlation()));
				try {
					CompletableFuture.allOf(confirms).get(CONFIRM_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
				}
				catch (ExecutionException ex) {
					// each message's own failure is in its future
				}
				catch (TimeoutException ex) {
					fail(sending, new IllegalStateException("The broker did not confirm the message to exchange '"
							+ this.exchange + "' within " + CONFIRM_TIMEOUT.toSeconds() + " s"));
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
					fail(sending, new IllegalStateException("Interrupted while waiting for the broker", ex));
				}
				return null;
			});
		}
		catch (AmqpConnectException ex) {
			fail(sending, new UnreachableBrokerException(
					"Cannot connect to RabbitMQ for exchange '" + this.exchange + "': " + ex.getMessage(), ex));
		}
		catch (RuntimeException ex) {
			fail(sending, ex);
		}
	}

	@Override
	public void discard() {
		List<Pending> abandoned = List.copyOf(this.batch);
		this.batch.clear();
		fail(abandoned, new IllegalStateException("The relay abandoned the batch before sending it"));
	}

	/** Fail the messages not answered yet. */
	private static void fail(List<Pending> messages, Throwable cause) {
		messages.forEach((pending) -> pending.correlation().getFuture().completeExceptionally(cause));
	}

	/** A message of the batch, sent on flush. */
	private record Pending(String routingKey, Message message, CorrelationData correlation) {
	}

}
