package dev.pgevents.autoconfigure;

import java.time.Duration;

import org.jspecify.annotations.Nullable;
import java.util.ArrayList;
import java.util.List;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.sql.init.DatabaseInitializationMode;
import org.springframework.validation.Errors;
import org.springframework.validation.Validator;

/**
 * Configuration of change events from PostgreSQL.
 */
@ConfigurationProperties("events")
public class EventsProperties implements Validator {

	/**
	 * Whether to capture row changes and deliver them to event subscribers.
	 */
	private boolean enabled = true;

	private final Schema schema = new Schema();

	private final Audit audit = new Audit();

	private final Dispatch dispatch = new Dispatch();

	private final Relay relay = new Relay();

	private final Retry retry = new Retry();

	private final Health health = new Health();

	private final Forward forward = new Forward();

	/**
	 * How long processed audit rows and delivered ledger entries are kept before the
	 * relay deletes them. Zero keeps them forever (for using the audit table as an audit
	 * log). Rows with deliveries still pending or dead-lettered are kept until those
	 * finish.
	 */
	private Duration retention = Duration.ofDays(7);

	public boolean isEnabled() {
		return this.enabled;
	}

	public void setEnabled(boolean enabled) {
		this.enabled = enabled;
	}

	@Override
	public boolean supports(Class<?> type) {
		return EventsProperties.class.isAssignableFrom(type);
	}

	/**
	 * Reject values that cannot work, naming the property. Spring Boot calls this
	 * whenever it binds the properties (a properties class that is a {@link Validator}
	 * validates itself), whichever beans the application replaces.
	 * @throws InvalidConfigurationPropertyValueException for the first such value
	 */
	@Override
	public void validate(Object target, Errors errors) {
		((EventsProperties) target).validate();
	}

	private void validate() {
		atLeast("events.dispatch.threads", this.dispatch.threads, 1);
		atLeast("events.dispatch.queue-capacity", this.dispatch.queueCapacity, 1);
		atLeast("events.dispatch.max-chain-depth", this.dispatch.maxChainDepth, 1);
		if (this.dispatch.syncLimit != null) {
			atLeast("events.dispatch.sync-limit", this.dispatch.syncLimit, 0);
		}
		positive("events.relay.poll-interval", this.relay.pollInterval);
		atLeast("events.relay.batch-size", this.relay.batchSize, 1);
		if (this.relay.lease.compareTo(Duration.ofSeconds(1)) < 0) {
			throw new InvalidConfigurationPropertyValueException("events.relay.lease", this.relay.lease,
					"Use at least 1s: the relay takes over a transaction's rows when its lease expires");
		}
		positive("events.relay.subscriber-expiry", this.relay.subscriberExpiry);
		atLeast("events.retry.max-attempts", this.retry.maxAttempts, 1);
		if (this.retry.initialDelay.isNegative()) {
			throw new InvalidConfigurationPropertyValueException("events.retry.initial-delay", this.retry.initialDelay,
					"Use a delay of zero or more");
		}
		if (!(this.retry.multiplier >= 1.0)) {
			throw new InvalidConfigurationPropertyValueException("events.retry.multiplier", this.retry.multiplier,
					"Use a multiplier of 1 (a constant delay) or more");
		}
		if (this.retry.maxDelay.compareTo(this.retry.initialDelay) < 0) {
			throw new InvalidConfigurationPropertyValueException("events.retry.max-delay", this.retry.maxDelay,
					"Use a delay of at least events.retry.initial-delay (" + this.retry.initialDelay + ")");
		}
		if (this.retention.isNegative()) {
			throw new InvalidConfigurationPropertyValueException("events.retention", this.retention,
					"Use a duration of zero (keep forever) or more");
		}
	}

	private static void atLeast(String name, int value, int minimum) {
		if (value < minimum) {
			throw new InvalidConfigurationPropertyValueException(name, value, "Use " + minimum + " or more");
		}
	}

	private static void positive(String name, Duration value) {
		if (value.isNegative() || value.isZero()) {
			throw new InvalidConfigurationPropertyValueException(name, value, "Use a duration greater than zero");
		}
	}

	public Schema getSchema() {
		return this.schema;
	}

	public Audit getAudit() {
		return this.audit;
	}

	public Dispatch getDispatch() {
		return this.dispatch;
	}

	public Relay getRelay() {
		return this.relay;
	}

	public Health getHealth() {
		return this.health;
	}

	public Forward getForward() {
		return this.forward;
	}

	public Retry getRetry() {
		return this.retry;
	}

	public Duration getRetention() {
		return this.retention;
	}

	public void setRetention(Duration retention) {
		this.retention = retention;
	}

	/**
	 * The relay, which delivers what no after-commit dispatch did.
	 */
	public static class Relay {

		/**
		 * Whether this instance runs the relay: claims undispatched rows and due retries,
		 * and deletes rows past their retention.
		 */
		private boolean enabled = true;

		/**
		 * How often the relay looks for work when no notification wakes it (notifications
		 * announce writes made outside the application at once).
		 */
		private Duration pollInterval = Duration.ofSeconds(2);

		/**
		 * Number of rows the relay claims at once.
		 */
		private int batchSize = 500;

		/**
		 * How long a relay claim may sit idle (a subscriber call, a pause) before the
		 * database ends it and its rows go to another instance, how long a claimed retry
		 * owns its ledger entry, and how long the relay leaves the rows of a committed
		 * transaction to its after-commit dispatch before taking them over.
		 */
		private Duration lease = Duration.ofSeconds(30);

		/**
		 * How long a subscriber that no running instance has any more is still handed
		 * events by the instances that lack it.
		 */
		private Duration subscriberExpiry = Duration.ofDays(7);

		/**
		 * Whether the instances sharing the database hand this instance's subscribers the
		 * events they lack. The test kit sets false in test contexts: a test's
		 * subscribers are then handed no other application's or run's events, and no
		 * other application waits for them.
		 */
		private boolean shareSubscribers = true;

		public boolean isEnabled() {
			return this.enabled;
		}

		public void setEnabled(boolean enabled) {
			this.enabled = enabled;
		}

		public Duration getPollInterval() {
			return this.pollInterval;
		}

		public void setPollInterval(Duration pollInterval) {
			this.pollInterval = pollInterval;
		}

		public int getBatchSize() {
			return this.batchSize;
		}

		public void setBatchSize(int batchSize) {
			this.batchSize = batchSize;
		}

		public Duration getLease() {
			return this.lease;
		}

		public void setLease(Duration lease) {
			this.lease = lease;
		}

		public Duration getSubscriberExpiry() {
			return this.subscriberExpiry;
		}

		public void setSubscriberExpiry(Duration subscriberExpiry) {
			this.subscriberExpiry = subscriberExpiry;
		}

		public boolean isShareSubscribers() {
			return this.shareSubscribers;
		}

		public void setShareSubscribers(boolean shareSubscribers) {
			this.shareSubscribers = shareSubscribers;
		}

	}

	/**
	 * Forwarding of events to message brokers: each route is a subscriber of its own
	 * ({@code kafka:<topic>}, {@code rabbit:<exchange>}) that takes each row's events in
	 * order.
	 */
	public static class Forward {

		/**
		 * The CloudEvents source of forwarded events. Defaults to
		 * spring.application.name.
		 */
		private @Nullable String source;

		private final Kafka kafka = new Kafka();

		private final Rabbit rabbit = new Rabbit();

		public @Nullable String getSource() {
			return this.source;
		}

		public void setSource(@Nullable String source) {
			this.source = source;
		}

		public Kafka getKafka() {
			return this.kafka;
		}

		public Rabbit getRabbit() {
			return this.rabbit;
		}

		/**
		 * Forwarding to RabbitMQ, through the application's RabbitTemplate.
		 */
		public static class Rabbit {

			/**
			 * Routes of events to exchanges.
			 */
			private List<RabbitRoute> routes = new ArrayList<>();

			public List<RabbitRoute> getRoutes() {
				return this.routes;
			}

			public void setRoutes(List<RabbitRoute> routes) {
				this.routes = routes;
			}

		}

		/**
		 * A route of events to a RabbitMQ exchange.
		 */
		public static class RabbitRoute {

			/**
			 * Event names and patterns, as @EventSubscriber takes them.
			 */
			private List<String> events = new ArrayList<>();

			/**
			 * The exchange.
			 */
			private @Nullable String exchange;

			/**
			 * The routing key. Defaults to each event's name.
			 */
			private @Nullable String routingKey;

			/**
			 * The name of the RabbitTemplate bean whose connections to use. Defaults to
			 * the application's one RabbitTemplate.
			 */
			private @Nullable String template;

			public List<String> getEvents() {
				return this.events;
			}

			public void setEvents(List<String> events) {
				this.events = events;
			}

			public @Nullable String getExchange() {
				return this.exchange;
			}

			public void setExchange(@Nullable String exchange) {
				this.exchange = exchange;
			}

			public @Nullable String getRoutingKey() {
				return this.routingKey;
			}

			public void setRoutingKey(@Nullable String routingKey) {
				this.routingKey = routingKey;
			}

			public @Nullable String getTemplate() {
				return this.template;
			}

			public void setTemplate(@Nullable String template) {
				this.template = template;
			}

		}

		/**
		 * Forwarding to Kafka, through the application's KafkaTemplate.
		 */
		public static class Kafka {

			/**
			 * Routes of events to topics.
			 */
			private List<KafkaRoute> routes = new ArrayList<>();

			public List<KafkaRoute> getRoutes() {
				return this.routes;
			}

			public void setRoutes(List<KafkaRoute> routes) {
				this.routes = routes;
			}

		}

		/**
		 * A route of events to a Kafka topic.
		 */
		public static class KafkaRoute {

			/**
			 * Event names and patterns, as @EventSubscriber takes them.
			 */
			private List<String> events = new ArrayList<>();

			/**
			 * The topic.
			 */
			private @Nullable String topic;

			/**
			 * The name of the KafkaTemplate bean whose producer settings to use. Defaults
			 * to the application's one KafkaTemplate.
			 */
			private @Nullable String template;

			public List<String> getEvents() {
				return this.events;
			}

			public void setEvents(List<String> events) {
				this.events = events;
			}

			public @Nullable String getTopic() {
				return this.topic;
			}

			public void setTopic(@Nullable String topic) {
				this.topic = topic;
			}

			public @Nullable String getTemplate() {
				return this.template;
			}

			public void setTemplate(@Nullable String template) {
				this.template = template;
			}

		}

	}

	/**
	 * The events health check.
	 */
	public static class Health {

		/**
		 * A lag (the age of the oldest undispatched row or overdue retry) beyond which
		 * the events health check reports DOWN. Unset: lag never makes it DOWN (the audit
		 * table is shared, and restarting an instance does not help).
		 */
		private @Nullable Duration maxLag;

		public @Nullable Duration getMaxLag() {
			return this.maxLag;
		}

		public void setMaxLag(@Nullable Duration maxLag) {
			this.maxLag = maxLag;
		}

	}

	public static class Retry {

		/**
		 * Number of attempts in all, the first included; after the last the delivery is
		 * dead-lettered.
		 */
		private int maxAttempts = 10;

		/**
		 * Delay before the second attempt.
		 */
		private Duration initialDelay = Duration.ofSeconds(1);

		/**
		 * Factor applied to the delay after each further attempt.
		 */
		private double multiplier = 2.0;

		/**
		 * Longest delay between two attempts.
		 */
		private Duration maxDelay = Duration.ofMinutes(10);

		public int getMaxAttempts() {
			return this.maxAttempts;
		}

		public void setMaxAttempts(int maxAttempts) {
			this.maxAttempts = maxAttempts;
		}

		public Duration getInitialDelay() {
			return this.initialDelay;
		}

		public void setInitialDelay(Duration initialDelay) {
			this.initialDelay = initialDelay;
		}

		public double getMultiplier() {
			return this.multiplier;
		}

		public void setMultiplier(double multiplier) {
			this.multiplier = multiplier;
		}

		public Duration getMaxDelay() {
			return this.maxDelay;
		}

		public void setMaxDelay(Duration maxDelay) {
			this.maxDelay = maxDelay;
		}

	}

	/**
	 * How the audit schema is installed.
	 */
	public static class Schema {

		/**
		 * Whether to create the audit table, the capture function and the triggers at
		 * startup ('always'), only when the database is an embedded one ('embedded', as
		 * Spring Boot's spring.sql.init.mode: H2, HSQLDB or Derby, so never for
		 * PostgreSQL), or to expect them installed by the application's own migrations
		 * ('never').
		 */
		private DatabaseInitializationMode initialize = DatabaseInitializationMode.ALWAYS;

		public DatabaseInitializationMode getInitialize() {
			return this.initialize;
		}

		public void setInitialize(DatabaseInitializationMode initialize) {
			this.initialize = initialize;
		}

	}

	/**
	 * What is captured, and where.
	 */
	public static class Audit {

		/**
		 * Name of the audit table, optionally schema-qualified. The starter's other
		 * tables are named after it: the delivery ledger with the suffix '_delivery', the
		 * registered subscribers '_subscriber', the running instances '_instance'.
		 */
		private String tableName = "keel_audit";

		/**
		 * Tables to audit in addition to those named by event subscribers.
		 */
		private List<String> tables = new ArrayList<>();

		/**
		 * Columns never copied into the audit table nor into events: 'column' for that
		 * column of every audited table, 'table.column' for one table's. They are removed
		 * inside the capture trigger; an update that changes only excluded columns is not
		 * an event. Primary-key columns cannot be excluded.
		 */
		private List<String> excludeColumns = new ArrayList<>();

		/**
		 * Database roles, besides the capture function's owner and the roles that belong
		 * to it, whose transactions' identity, trace and scope are believed. Any other
		 * role's changes record the role as their identity ('db:<role>'), a trace of
		 * their own and no scope. List the application's role here when another role (a
		 * migration's) installs the schema.
		 */
		private List<String> trustedRoles = new ArrayList<>();

		public List<String> getTrustedRoles() {
			return this.trustedRoles;
		}

		public void setTrustedRoles(List<String> trustedRoles) {
			this.trustedRoles = trustedRoles;
		}

		public String getTableName() {
			return this.tableName;
		}

		public void setTableName(String tableName) {
			this.tableName = tableName;
		}

		public List<String> getTables() {
			return this.tables;
		}

		public void setTables(List<String> tables) {
			this.tables = tables;
		}

		public List<String> getExcludeColumns() {
			return this.excludeColumns;
		}

		public void setExcludeColumns(List<String> excludeColumns) {
			this.excludeColumns = excludeColumns;
		}

	}

	/**
	 * How committed changes reach the subscribers.
	 */
	public static class Dispatch {

		/**
		 * Where subscribers run after commit: 'sync' in the committing thread (they have
		 * run when the transactional method returns), 'async' on a dispatch executor.
		 */
		private Mode mode = Mode.SYNC;

		/**
		 * Number of threads that dispatch events in 'async' mode, and in 'sync' mode the
		 * transactions the committing threads hand over (beyond the sync limit).
		 */
		private int threads = 2;

		/**
		 * Number of committed transactions that can wait for the dispatch threads, in
		 * either mode; beyond it their events are left for the relay.
		 */
		private int queueCapacity = 10_000;

		/**
		 * Number of committing threads that may run subscribers at once in 'sync' mode;
		 * the others hand their transaction's events to the dispatch executor. Such a
		 * thread holds its transaction's connection while its subscribers take others, so
		 * by default it is derived from the connection pool's size (less what the relay
		 * holds, less one); 0 when the pool's size is unknown, which hands every
		 * transaction's events to the executor. Set it for a pool Spring Boot cannot
		 * size.
		 */
		private @Nullable Integer syncLimit;

		/**
		 * The longest chain of events that subscribers caused which is delivered: a
		 * change that a subscriber of an event wrote, whose subscriber wrote another, and
		 * so on. A delivery deeper than this (an event loop: a subscriber of
		 * counter.updated that updates the counter) is dead-lettered, with a warning.
		 */
		private int maxChainDepth = 16;

		public int getMaxChainDepth() {
			return this.maxChainDepth;
		}

		public void setMaxChainDepth(int maxChainDepth) {
			this.maxChainDepth = maxChainDepth;
		}

		public Mode getMode() {
			return this.mode;
		}

		public void setMode(Mode mode) {
			this.mode = mode;
		}

		public int getThreads() {
			return this.threads;
		}

		public void setThreads(int threads) {
			this.threads = threads;
		}

		public int getQueueCapacity() {
			return this.queueCapacity;
		}

		public void setQueueCapacity(int queueCapacity) {
			this.queueCapacity = queueCapacity;
		}

		public @Nullable Integer getSyncLimit() {
			return this.syncLimit;
		}

		public void setSyncLimit(@Nullable Integer syncLimit) {
			this.syncLimit = syncLimit;
		}

	}

	/**
	 * Where subscribers run after commit.
	 */
	public enum Mode {

		/** In the committing thread. */
		SYNC,

		/** On the dispatch executor. */
		ASYNC

	}

}
