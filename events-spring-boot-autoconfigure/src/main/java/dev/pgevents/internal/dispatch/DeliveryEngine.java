package dev.pgevents.internal.dispatch;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import javax.sql.DataSource;

import org.jspecify.annotations.Nullable;

import dev.pgevents.EventDeliveries;
import dev.pgevents.EventHandler;
import dev.pgevents.internal.capture.AuditSchema;
import dev.pgevents.internal.capture.AuditedTable;
import dev.pgevents.internal.capture.OwnTransactions;
import dev.pgevents.kit.EventLog;

import org.springframework.scheduling.concurrent.ThreadPoolTaskExecutor;

/**
 * Builds the delivery engine's parts, each once, and wires them: the one place that knows
 * them all. What the application context needs of it are its two lifecycles, the
 * after-commit dispatch and the relay.
 */
public final class DeliveryEngine implements AutoCloseable {

	private final ClaimKeeper keeper;

	private final AfterCommitDispatch afterCommit;

	private final Relay relay;

	private final CaptureCheck captureCheck;

	private final Backlog backlog;

	private final EventLog eventLog;

	private final JdbcEventDeliveries deliveries;

	private final Supervisor supervisor;

	private final Subscriptions subscriptions;

	/**
	 * Build the engine.
	 * @param dataSource the audited database
	 * @param schema the audit schema
	 * @param tables the audited tables
	 * @param subscribers this instance's subscribers
	 * @param handler delivers one event to one subscriber
	 * @param observer told what the engine does, for metrics
	 * @param settings how it runs
	 */
	public DeliveryEngine(DataSource dataSource, AuditSchema schema, List<AuditedTable> tables,
			Subscriptions subscribers, EventHandler handler, DeliveryObserver observer, Settings settings) {
		// every part works on connections of its own, never on an application
		// transaction's (but the after-commit dispatch, on a committed one's)
		OwnTransactions transactions = new OwnTransactions(dataSource);
		DataSource connections = transactions.dataSource();
		EngineThreads threads = new EngineThreads(settings.virtualThreads());
		Supervisor supervisor = new Supervisor(threads);
		this.supervisor = supervisor;
		this.subscriptions = subscribers;
		InstanceHold instance = new InstanceHold(connections, schema, settings.relayEnabled(), settings.lease());
		this.keeper = new ClaimKeeper(settings.lease(), instance, threads);
		RowOrder order = new RowOrder(schema, tables, subscribers, AfterCommitDispatch.PAGE);
		DeliveryLedger ledger = new DeliveryLedger(transactions, schema, subscribers.names(),
				settings.subscriberExpiry(), order.keyText(), settings.lease());
		EventFactory events = new EventFactory(tables);
		FanOut fanOut = new FanOut(subscribers, handler, events, settings.backoff(), ledger, observer, order,
				new ChainLimit(connections, schema, settings.maxChainDepth()));
		this.eventLog = new AuditLog(transactions, schema, tables, subscribers, events, order);
		this.deliveries = new JdbcEventDeliveries(transactions, schema, subscribers.names(),
				new Redelivery(transactions, schema, tables, subscribers, settings.batchSize(), settings.retention()));
		// threads are started as work comes: in sync mode only when committing threads
		// hand over
		ThreadPoolTaskExecutor executor = threads.pool("events-dispatch-", settings.dispatchThreads(),
				settings.dispatchQueueCapacity(), false);
		this.afterCommit = new AfterCommitDispatch(new ScopeRows(connections, schema, AfterCommitDispatch.PAGE, order),
				fanOut, new OutcomeWriter(ledger, instance, supervisor), instance, this.keeper, executor, supervisor,
				settings.committingThreads());
		this.captureCheck = new CaptureCheck(connections, schema, tables);
		this.backlog = new Backlog(connections, schema, observer, settings.measureBacklog(), order);
		this.relay = new Relay(settings.relayEnabled(), settings.pollInterval(), settings.batchSize(),
				new SubscriberHeartbeat(connections, schema, subscribers, settings.shareSubscribers()),
				this.captureCheck, this.backlog,
				new UndispatchedRows(connections, schema, fanOut, this.keeper, instance, settings.batchSize(),
						settings.lease(), threads),
				new DueDeliveries(connections, schema, subscribers, fanOut, ledger, this.keeper, settings.batchSize(),
						settings.lease(), order),
				new Retention(connections, schema, settings.retention(), supervisor),
				new NotificationListener(connections, schema, settings.pollInterval()), supervisor);
	}

	/**
	 * The after-commit dispatch, a lifecycle of the application context.
	 * @return the dispatch
	 */
	public AfterCommitDispatch afterCommitDispatch() {
		return this.afterCommit;
	}

	/**
	 * The relay, a lifecycle of the application context.
	 * @return the relay
	 */
	public Relay relay() {
		return this.relay;
	}

	/**
	 * The delivery ledger, its replays, backfills and rewinds.
	 * @return the ledger view
	 */
	public EventDeliveries deliveries() {
		return this.deliveries;
	}

	/**
	 * Who takes each event.
	 * @return this instance's subscriptions
	 */
	public Subscriptions subscriptions() {
		return this.subscriptions;
	}

	/**
	 * The audit log, for tools that look at what was captured and delivered.
	 * @return the log
	 */
	public EventLog eventLog() {
		return this.eventLog;
	}

	/**
	 * What the engine sees of itself and the database, as of the relay's last checks.
	 * @return the status
	 */
	public Status status() {
		return new Status(this.relay.state(), this.relay.listenerState(), this.supervisor.failing(),
				this.captureCheck.missing(), this.backlog.last());
	}

	/**
	 * Stop the threads left, once both lifecycles have stopped.
	 */
	@Override
	public void close() {
		this.afterCommit.close();
		this.keeper.close();
	}

	/**
	 * How the engine runs.
	 *
	 * @param committingThreads how many committing threads may run subscribers at once
	 * (the others hand their transactions over), or {@code -1} to hand every transaction
	 * over (async mode)
	 * @param dispatchThreads the dispatch executor's threads
	 * @param dispatchQueueCapacity transactions that may wait for them
	 * @param maxChainDepth the deepest chain of events that subscribers caused that is
	 * delivered
	 * @param relayEnabled whether the relay claims and delivers (registration is kept up
	 * regardless)
	 * @param pollInterval how often the relay looks for work when no notification comes
	 * @param batchSize rows the relay claims at once
	 * @param lease how long a claim may sit idle, a retry owns its ledger entry, and an
	 * after-commit dispatch owns its rows before the relay takes them over
	 * @param retention how long processed rows are kept; zero keeps them forever
	 * @param subscriberExpiry how long a subscriber that no instance runs any more is
	 * still handed events
	 * @param shareSubscribers whether the other instances hand this one's subscribers the
	 * events they lack
	 * @param backoff when failed deliveries are tried again
	 * @param measureBacklog whether the relay measures the backlog every few seconds (for
	 * a health check; metrics ask for it themselves)
	 * @param virtualThreads whether the application runs on virtual threads, and the
	 * engine's threads with it
	 */
	public record Settings(int committingThreads, int dispatchThreads, int dispatchQueueCapacity, int maxChainDepth,
			boolean relayEnabled, Duration pollInterval, int batchSize, Duration lease, Duration retention,
			Duration subscriberExpiry, boolean shareSubscribers, Backoff backoff, boolean measureBacklog,
			boolean virtualThreads) {
	}

	/**
	 * What the engine sees of itself and the database.
	 *
	 * @param relay {@code running}, {@code stopped}, {@code disabled} or {@code dead}
	 * @param listener {@code listening}, {@code reconnecting} or {@code disabled}
	 * @param restarting the engine's threads that died and wait to be restarted, with
	 * what ended them
	 * @param missingTriggers the audited tables that lack capture triggers, with the
	 * operations whose trigger is missing
	 * @param backlog the backlog, or {@code null} when not measured (yet)
	 */
	public record Status(String relay, String listener, Map<String, String> restarting,
			Map<String, List<String>> missingTriggers, @Nullable Measure backlog) {
	}

	/**
	 * The backlog at one moment.
	 *
	 * @param pending undispatched audit rows plus deliveries waiting for a retry
	 * @param dead dead-lettered deliveries
	 * @param lag the age of the oldest undispatched row or overdue retry, zero when there
	 * is none
	 * @param parked per ordered subscriber, the rows parked behind a dead letter (whose
	 * later events wait until it is replayed or skipped)
	 */
	public record Measure(long pending, long dead, Duration lag, Map<String, Long> parked) {
	}

}
