package dev.pgevents;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import javax.sql.DataSource;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import dev.pgevents.internal.support.StartupFailure;

import org.springframework.amqp.core.Binding;
import org.springframework.amqp.core.BindingBuilder;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.core.MessageDeliveryMode;
import org.springframework.amqp.core.Queue;
import org.springframework.amqp.core.TopicExchange;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.amqp.rabbit.core.RabbitAdmin;
import org.springframework.amqp.rabbit.core.RabbitTemplate;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DriverManagerDataSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Forwarding routes to RabbitMQ, against the broker of the machine
 * ({@code EVENTS_TEST_RABBITMQ_HOST}, default 127.0.0.1:5672, guest/guest): messages
 * reach a bound queue with the event's properties, only once the broker confirmed them;
 * an exchange that does not exist leads to retries and a dead letter, which a replay
 * delivers once it exists. Skipped, saying so, where no broker answers.
 */
class RabbitForwardingTests {

	private static final JsonMapper JSON = JsonMapper.builder().build();

	private static final String HOST = System.getenv().getOrDefault("EVENTS_TEST_RABBITMQ_HOST", "127.0.0.1");

	final List<ConfigurableApplicationContext> instances = new ArrayList<>();

	CachingConnectionFactory connections;

	RabbitAdmin admin;

	String exchange;

	String url;

	JdbcTemplate jdbc;

	@BeforeAll
	static void broker() {
		try (Socket socket = new Socket()) {
			socket.connect(new InetSocketAddress(HOST, 5672), 2000);
		}
		catch (Exception ex) {
			Assumptions.abort("Skipped: no RabbitMQ broker answers on " + HOST + ":5672 (" + ex.getMessage()
					+ "). Start one (rabbitmq-server -detached) or point EVENTS_TEST_RABBITMQ_HOST at one");
		}
	}

	@BeforeEach
	void prepare() {
		this.connections = new CachingConnectionFactory(HOST);
		this.admin = new RabbitAdmin(this.connections);
		this.exchange = "events-test-" + UUID.randomUUID();
		this.url = TestDatabase.create();
		DataSource dataSource = new DriverManagerDataSource(this.url);
		this.jdbc = new JdbcTemplate(dataSource);
		this.jdbc.execute("CREATE TABLE stock (id int PRIMARY KEY, version int NOT NULL)");
	}

	@AfterEach
	void stop() {
		this.instances.forEach(ConfigurableApplicationContext::close);
		this.admin.deleteQueue(this.exchange);
		this.admin.deleteExchange(this.exchange);
		this.connections.destroy();
	}

	@Test
	void messagesReachABoundQueueWithTheEventsPropertiesInOrderPerRow() {
		Queue queue = bound("stock.#");
		start();
		for (int version = 0; version < 20; version++) {
			for (int id = 0; id < 10; id++) {
				this.jdbc.update("INSERT INTO stock VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET version = "
						+ "excluded.version", id, version);
			}
		}
		List<Message> messages = receive(queue, 200);
		assertThat(messages).hasSize(200);
		assertThat(messages.stream().map((message) -> message.getMessageProperties().getMessageId()).distinct())
			.hasSize(200);
		for (int id = 0; id < 10; id++) {
			String key = Integer.toString(id);
			List<Integer> versions = messages.stream()
				.map(RabbitForwardingTests::json)
				.filter((event) -> event.get("target").get("id").asString().equals(key))
				.map((event) -> event.get("target").get("data").get("version").asInt())
				.toList();
			assertThat(versions).as("versions of row %s", key).isSorted().hasSize(20);
		}
		Message first = messages.get(0);
		JsonNode event = json(first);
		assertThat(first.getMessageProperties().getMessageId()).isEqualTo(event.get("id").asString());
		assertThat(first.getMessageProperties().getType()).isEqualTo("stock.created");
		assertThat(first.getMessageProperties().getReceivedRoutingKey()).isEqualTo("stock.created");
		assertThat(first.getMessageProperties().getContentType()).isEqualTo("application/json");
		assertThat(first.getMessageProperties().getAppId()).isEqualTo("stock-service");
		assertThat(first.getMessageProperties().getTimestamp()).isNotNull();
		assertThat(first.getMessageProperties().getReceivedDeliveryMode()).isEqualTo(MessageDeliveryMode.PERSISTENT);
		assertThat((String) first.getMessageProperties().getHeader("traceparent"))
			.matches("00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]");
	}

	@Test
	void anExchangeThatDoesNotExistLeadsToADeadLetterThatAReplayDeliversOnceItExists() {
		ConfigurableApplicationContext app = start("events.retry.max-attempts=2", "events.retry.initial-delay=100ms");
		this.jdbc.update("INSERT INTO stock VALUES (1, 1)");
		String route = "rabbit:" + this.exchange;
		EventDeliveries deliveries = app.getBean(EventDeliveries.class);
		// Spring AMQP reports the channel the broker closed (no such exchange) from a
		// thread of its own, which awaitility would otherwise take for a failure
		await().dontCatchUncaughtExceptions()
			.atMost(Duration.ofSeconds(30))
			.until(() -> deliveries.find(DeliveryQuery.dead()).stream().anyMatch((d) -> d.subscriber().equals(route)));
		Delivery dead = deliveries.find(DeliveryQuery.dead()).get(0);
		assertThat(dead.attempts()).isEqualTo(2);
		assertThat(dead.lastError()).contains(this.exchange);

		Queue queue = bound("stock.#");
		assertThat(deliveries.replay(dead.eventId(), route)).isTrue();
		List<Message> messages = receive(queue, 1);
		assertThat(messages).hasSize(1);
		assertThat(json(messages.get(0)).get("id").asString()).isEqualTo(dead.eventId());
	}

	@Test
	void connectionsWithoutPublisherConfirmsFailTheStartupNamingTheProperties() {
		assertThatThrownBy(() -> start("spring.rabbitmq.publisher-confirm-type=none"))
			.isInstanceOf(StartupFailure.class)
			.hasMessageContaining("events.forward.rabbit.routes[0] (exchange '" + this.exchange + "')")
			.hasMessageContaining("publisher confirms")
			.satisfies((failure) -> assertThat(((StartupFailure) failure).action())
				.contains("spring.rabbitmq.publisher-confirm-type=correlated"));
	}

	private Queue bound(String pattern) {
		TopicExchange exchange = new TopicExchange(this.exchange, false, true);
		this.admin.declareExchange(exchange);
		Queue queue = new Queue(this.exchange, false, false, false);
		this.admin.declareQueue(queue);
		Binding binding = BindingBuilder.bind(queue).to(exchange).with(pattern);
		this.admin.declareBinding(binding);
		return queue;
	}

	private List<Message> receive(Queue queue, int expected) {
		RabbitTemplate template = new RabbitTemplate(this.connections);
		List<Message> messages = new ArrayList<>();
		await().dontCatchUncaughtExceptions().atMost(Duration.ofSeconds(60)).until(() -> {
			Message message;
			while ((message = template.receive(queue.getName())) != null) {
				messages.add(message);
			}
			return messages.size() >= expected;
		});
		// no duplicate follows
		Message extra = template.receive(queue.getName(), 1000);
		assertThat(extra).isNull();
		return messages;
	}

	private static JsonNode json(Message message) {
		return JSON.readTree(new String(message.getBody(), StandardCharsets.UTF_8));
	}

	private ConfigurableApplicationContext start(String... properties) {
		ConfigurableApplicationContext instance = new SpringApplicationBuilder(App.class)
			.properties("spring.datasource.url=" + this.url, "spring.main.banner-mode=off",
					"spring.application.name=stock-service", "events.relay.poll-interval=100ms",
					"spring.rabbitmq.host=" + HOST, "spring.rabbitmq.publisher-confirm-type=correlated",
					"spring.rabbitmq.publisher-returns=true", "events.forward.rabbit.routes[0].events[0]=stock.*",
					"events.forward.rabbit.routes[0].exchange=" + this.exchange)
			.properties(properties)
			.run();
		this.instances.add(instance);
		return instance;
	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class App {

	}

}
