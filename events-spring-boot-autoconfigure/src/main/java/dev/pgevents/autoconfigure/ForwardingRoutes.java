package dev.pgevents.autoconfigure;

import java.util.ArrayList;
import java.util.List;

import dev.pgevents.internal.support.StartupFailure;
import dev.pgevents.internal.dispatch.Route;
import dev.pgevents.internal.forward.KafkaForwarder;
import dev.pgevents.internal.forward.RabbitForwarder;

import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.core.env.Environment;
import org.springframework.util.ClassUtils;
import org.springframework.util.StringUtils;

/**
 * The forwarding routes of {@code events.forward}, read before any bean is created (the
 * tables they name are audited with the subscribers'), each with the forwarder it makes
 * once the broker client's beans exist.
 */
final class ForwardingRoutes {

	private static final String KAFKA_TEMPLATE = "org.springframework.kafka.core.KafkaTemplate";

	private static final String RABBIT_TEMPLATE = "org.springframework.amqp.rabbit.core.RabbitTemplate";

	private ForwardingRoutes() {
	}

	/**
	 * Read the routes.
	 * @param environment the application's environment
	 * @param beanFactory where the broker clients' beans are found
	 * @return the routes
	 * @throws StartupFailure for a route that cannot work: no destination, or its client
	 * library missing
	 */
	static List<Route> of(Environment environment, ConfigurableListableBeanFactory beanFactory) {
		EventsProperties.Forward forward = Binder.get(environment)
			.bindOrCreate("events.forward", EventsProperties.Forward.class);
		String source = StringUtils.hasText(forward.getSource()) ? forward.getSource()
				: environment.getProperty("spring.application.name", "application");
		List<Route> routes = new ArrayList<>();
		List<EventsProperties.Forward.KafkaRoute> kafka = forward.getKafka().getRoutes();
		for (int i = 0; i < kafka.size(); i++) {
			EventsProperties.Forward.KafkaRoute route = kafka.get(i);
			String property = "events.forward.kafka.routes[" + i + "]";
			String topic = route.getTopic();
			if (!StringUtils.hasText(topic)) {
				throw new StartupFailure("Forwarding route " + property + " names no topic",
						"Set " + property + ".topic");
			}
			if (!ClassUtils.isPresent(KAFKA_TEMPLATE, beanFactory.getBeanClassLoader())) {
				throw new StartupFailure(
						"Forwarding route " + property + " (topic '" + topic + "') needs Spring for Apache Kafka, "
								+ "which is not on the classpath",
						"Add the dependency org.springframework.boot:spring-boot-starter-kafka");
			}
			String template = route.getTemplate();
			routes.add(new Route("kafka:" + topic, property, "topic '" + topic + "'", route.getEvents(),
					() -> KafkaForwarder.of(beanFactory, property, template, topic, source)));
		}
		List<EventsProperties.Forward.RabbitRoute> rabbit = forward.getRabbit().getRoutes();
		for (int i = 0; i < rabbit.size(); i++) {
			EventsProperties.Forward.RabbitRoute route = rabbit.get(i);
			String property = "events.forward.rabbit.routes[" + i + "]";
			String exchange = route.getExchange();
			if (!StringUtils.hasText(exchange)) {
				throw new StartupFailure("Forwarding route " + property + " names no exchange",
						"Set " + property + ".exchange");
			}
			if (!ClassUtils.isPresent(RABBIT_TEMPLATE, beanFactory.getBeanClassLoader())) {
				throw new StartupFailure(
						"Forwarding route " + property + " (exchange '" + exchange + "') needs Spring AMQP, "
								+ "which is not on the classpath",
						"Add the dependency org.springframework.boot:spring-boot-starter-amqp");
			}
			String template = route.getTemplate();
			String routingKey = route.getRoutingKey();
			routes.add(new Route("rabbit:" + exchange, property, "exchange '" + exchange + "'", route.getEvents(),
					() -> RabbitForwarder.of(beanFactory, property, template, exchange, routingKey, source)));
		}
		return routes;
	}

}
