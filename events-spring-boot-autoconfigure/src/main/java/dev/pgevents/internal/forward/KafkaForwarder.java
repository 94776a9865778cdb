package dev.pgevents.internal.forward;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.jspecify.annotations.Nullable;

import dev.pgevents.Event;
import dev.pgevents.internal.support.StartupFailure;
import dev.pgevents.internal.dispatch.Forwarder;
import dev.pgevents.internal.dispatch.UnreachableBrokerException;

import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.NoSuchBeanDefinitionException;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.core.ProducerFactory;

/**
 * Sends a route's events to a Kafka topic: the event as JSON, keyed by the row's id (a
 * row's changes go to one partition), with the CloudEvents headers of the Kafka binary
 * binding. The producer is the application template's (its servers, security and client
 * settings) with the serializers this format needs, {@code acks=all} and idempotence: an
 * event counts as delivered once every in-sync replica has it, and a producer retry
 * neither duplicates it nor puts it behind a later event of its row.
 */
public final class KafkaForwarder implements Forwarder {

	/** How long a send waits for the topic's metadata unless the application says. */
	static final Duration MAX_BLOCK = Duration.ofSeconds(5);

	private final ProducerFactory<String, byte[]> producers;

	private final KafkaTemplate<String, byte[]> template;

	private final String topic;

	private final CloudEvent format;

	private KafkaForwarder(ProducerFactory<String, byte[]> producers, String topic, CloudEvent format) {
		this.producers = producers;
		this.template = new KafkaTemplate<>(producers);
		this.topic = topic;
		this.format = format;
	}

	/**
	 * The forwarder of a route.
	 * @param beanFactory where the template is found
	 * @param property the route's property, for messages
	 * @param templateName the template bean's name, or {@code null} for the one there is
	 * @param topic the topic
	 * @param source the CloudEvents source
	 * @return the forwarder
	 * @throws StartupFailure when there is no such template, or it cannot send outside a
	 * Kafka transaction
	 */
	public static KafkaForwarder of(ConfigurableListableBeanFactory beanFactory, String property,
			@Nullable String templateName, String topic, String source) {
		KafkaTemplate<?, ?> template;
		try {
			template = (templateName != null) ? beanFactory.getBean(templateName, KafkaTemplate.class)
					: beanFactory.getBean(KafkaTemplate.class);
		}
		catch (NoSuchBeanDefinitionException ex) {
			throw new StartupFailure(
					"Forwarding route " + property + " (topic '" + topic + "') finds "
							+ ((templateName != null) ? "no KafkaTemplate bean named '" + templateName + "'"
									: "no single KafkaTemplate bean: " + ex.getMessage()),
					"Configure Kafka (spring.kafka.bootstrap-servers) with spring-boot-starter-kafka, or name a "
							+ "KafkaTemplate bean in " + property + ".template");
		}
		ProducerFactory<?, ?> factory = template.getProducerFactory();
		if (factory.transactionCapable()) {
			throw new StartupFailure(
					"Forwarding route " + property + " (topic '" + topic + "') would use a transactional producer",
					"Name a KafkaTemplate without a transaction-id-prefix in " + property + ".template");
		}
		Map<String, Object> overrides = new HashMap<>(Map.of(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG,
				StringSerializer.class, ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
				ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true));
		if (!factory.getConfigurationProperties().containsKey(ProducerConfig.MAX_BLOCK_MS_CONFIG)) {
			// a send waits this long for a broker that does not answer, and so holds the
			// relay back (once per batch): Kafka's default is a minute
			overrides.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) MAX_BLOCK.toMillis());
		}
		@SuppressWarnings("unchecked")
		ProducerFactory<String, byte[]> forwarding = (ProducerFactory<String, byte[]>) factory
			.copyWithConfigurationOverride(overrides);
		return new KafkaForwarder(forwarding, topic, new CloudEvent(source));
	}

	@Override
	public CompletableFuture<?> send(Event event, String traceparent) {
		List<Header> headers = this.format.attributes(event, traceparent)
			.entrySet()
			.stream()
			.map((attribute) -> (Header) new RecordHeader(kafkaName(attribute.getKey()),
					attribute.getValue().getBytes(StandardCharsets.UTF_8)))
			.toList();
		CompletableFuture<?> sent;
		try {
			sent = this.template
				.send(new ProducerRecord<>(this.topic, null, event.target().id(), this.format.json(event), headers));
		}
		catch (RuntimeException ex) {
			// the template throws what the producer refused within the call
			throw unreachable(ex);
		}
		if (sent.isCompletedExceptionally()) {
			try {
				sent.join();
			}
			catch (CompletionException | CancellationException ex) {
				throw unreachable(ex);
			}
		}
		return sent;
	}

	/**
	 * What a send refused within the call means: a timeout there is the producer's wait
	 * of up to {@code max.block.ms} for the topic's metadata, which no broker answered.
	 */
	private RuntimeException unreachable(RuntimeException refusal) {
		for (Throwable cause = refusal; cause != null; cause = cause.getCause()) {
			if (cause instanceof TimeoutException) {
				return new UnreachableBrokerException("No Kafka broker answered for topic '" + this.topic
						+ "' within max.block.ms: " + cause.getMessage(), cause);
			}
		}
		return refusal;
	}

	@Override
	public void flush() {
		this.template.flush();
	}

	/**
	 * Closes the route's producer (the copy of the template's factory is the route's
	 * own).
	 */
	@Override
	public void close() {
		if (this.producers instanceof DisposableBean factory) {
			try {
				factory.destroy();
			}
			catch (Exception ex) {
				throw new IllegalStateException("Cannot close the producer of topic '" + this.topic + "'", ex);
			}
		}
	}

	/**
	 * CloudEvents attributes are {@code ce_}-prefixed headers; the others keep their
	 * name.
	 */
	private static String kafkaName(String attribute) {
		return attribute.equals(CloudEvent.CONTENT_TYPE) || attribute.equals(CloudEvent.TRACEPARENT) ? attribute
				: "ce_" + attribute;
	}

}
