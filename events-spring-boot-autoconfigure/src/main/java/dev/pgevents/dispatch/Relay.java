package dev.pgevents.dispatch;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;

import javax.sql.DataSource;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

import dev.pgevents.capture.AuditSchema;

import org.springframework.context.SmartLifecycle;
import org.springframework.jdbc.core.BatchPreparedStatementSetter;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The relay, one per instance: delivers what no after-commit dispatch did.
 * <ul>
 * <li>Audit rows no local dispatcher handles: written outside a Spring transaction or by
 * an instance without subscribers (a notification wakes the relay at once), and rows whose
 * after-commit dispatch died with its process (their lease expired).</li>
 * <li>Ledger entries that are due: retries, replays, and rows handed over by instances that
 * lack this instance's subscribers.</li>
 * </ul>
 * Instances share the work through row locks: every claim takes a batch
 * {@code FOR UPDATE SKIP LOCKED}. Audit rows stay locked by the claiming transaction until
 * their outcomes are recorded in it; the database ends a claim that sits idle for longer
 * than the lease, which releases its rows and discards what a stalled claimer would
 * record. Ledger entries are claimed under a lease and a lease token, which fences out an
 * earlier claimer whose lease expired. The relay also keeps this instance's subscribers
 * registered, and deletes processed rows past their retention.
 */
public final class Relay implements SmartLifecycle {

	private static final Log logger = LogFactory.getLog(Relay.class);

	private static final Duration HEARTBEAT = Duration.ofMinutes(1);

	private static final Duration MAX_ERROR_BACKOFF = Duration.ofSeconds(30);

	private static final int RETENTION_BATCH = 1000;

	private final DataSource dataSource;

	private final JdbcTemplate jdbc;

	private final AuditSchema schema;

	private final SubscriberRegistry subscribers;

	private final SendEvents sendEvents;

	private final Settings settings;

	private final String claimRows;

	private final String claimDeliveries;

	private final String selectRows;

	private final String registerSubscriber;

	private final String deleteProcessedRows;

	private final String deleteDeliveredEntries;

	private volatile @Nullable Thread thread;

	private volatile CountDownLatch stopped = new CountDownLatch(0);

	private @Nullable Connection listener;

	private volatile long claimedUpTo;

	/** Claims the next batch while a backlog's current one is delivered. */
	private volatile @Nullable ExecutorService claimer;

	private volatile @Nullable CompletableFuture<Claim> nextClaim;

	/** How long the last batch took to deliver and record, in nanoseconds; none yet: max. */
	private long lastDelivery = Long.MAX_VALUE;

	private long nextHeartbeat;

	private long nextRetention;

	private long nextListenAttempt;

	private int listenFailures;

	private int failures;

	/**
	 * What the relay does, and how often.
	 *
	 * @param enabled whether to claim and deliver (registration is kept up regardless)
	 * @param pollInterval how often to look for work when no notification comes
	 * @param batchSize rows claimed at once
	 * @param lease how long a claim may sit idle, a retry owns its ledger entry, and an
	 * after-commit dispatch owns its rows
	 * @param retention how long processed rows are kept; zero keeps them forever
	 */
	public record Settings(boolean enabled, Duration pollInterval, int batchSize, Duration lease, Duration retention) {
	}

	/**
	 * Create the relay.
	 * @param dataSource the audited database
	 * @param schema the audit schema
	 * @param subscribers the local subscribers
	 * @param sendEvents delivers and records
	 * @param settings what the relay does
	 */
	public Relay(DataSource dataSource, AuditSchema schema, SubscriberRegistry subscribers, SendEvents sendEvents,
			Settings settings) {
		this.dataSource = dataSource;
		this.jdbc = new AuditJdbc(dataSource);
		this.schema = schema;
		this.subscribers = subscribers;
		this.sendEvents = sendEvents;
		this.settings = settings;
		// two kinds of claimable rows, each found in id order through the pending index:
		// those no local dispatcher handles (no scope), and those a dispatcher left behind
		// for longer than the lease (few: the index holds only undispatched rows)
		this.claimRows = """
				WITH outside AS (
					SELECT %2$s FROM %1$s
					WHERE event_processed_at IS NULL AND scope_id IS NULL AND id > ?
					ORDER BY scope_id, id LIMIT ?
					FOR UPDATE SKIP LOCKED
				), abandoned AS (
					SELECT %2$s FROM %1$s
					WHERE event_processed_at IS NULL AND scope_id IS NOT NULL
						AND created_at < clock_timestamp() - ? * interval '1 millisecond'
					ORDER BY id LIMIT ?
					FOR UPDATE SKIP LOCKED
				)
				SELECT * FROM outside UNION ALL SELECT * FROM abandoned
				""".formatted(schema.auditTable(), AuditRow.COLUMNS);
		this.claimDeliveries = """
				WITH due AS (
					SELECT audit_id, subscriber FROM %1$s
					WHERE status = 'pending' AND subscriber = ANY (?::text[]) AND next_attempt_at <= clock_timestamp()
						AND (lease_until IS NULL OR lease_until < clock_timestamp())
					ORDER BY next_attempt_at LIMIT ?
					FOR UPDATE SKIP LOCKED
				)
				UPDATE %1$s d SET lease_until = clock_timestamp() + ? * interval '1 millisecond',
					lease_token = d.lease_token + 1
				FROM due WHERE d.audit_id = due.audit_id AND d.subscriber = due.subscriber
				RETURNING d.audit_id, d.subscriber, d.attempts, d.lease_token
				""".formatted(schema.deliveryTable());
		this.selectRows = "SELECT " + AuditRow.COLUMNS + " FROM " + schema.auditTable() + " WHERE id = ANY (?)";
		this.registerSubscriber = "INSERT INTO " + schema.subscriberTable() + " (name, events, last_seen_at)"
				+ " VALUES (?, ?, clock_timestamp()) ON CONFLICT (name) DO UPDATE"
				+ " SET events = excluded.events, last_seen_at = excluded.last_seen_at";
		this.deleteProcessedRows = """
				DELETE FROM %1$s WHERE id IN (
					SELECT a.id FROM %1$s a
					WHERE a.event_processed_at IS NOT NULL
						AND a.created_at < clock_timestamp() - ? * interval '1 millisecond'
						AND NOT EXISTS (SELECT FROM %2$s d WHERE d.audit_id = a.id AND d.status <> 'delivered')
					ORDER BY a.id LIMIT %3$d
					FOR UPDATE SKIP LOCKED)
				""".formatted(schema.auditTable(), schema.deliveryTable(), RETENTION_BATCH);
		this.deleteDeliveredEntries = """
				DELETE FROM %1$s WHERE (audit_id, subscriber) IN (
					SELECT audit_id, subscriber FROM %1$s
					WHERE status = 'delivered' AND updated_at < clock_timestamp() - ? * interval '1 millisecond'
					LIMIT %2$d
					FOR UPDATE SKIP LOCKED)
				""".formatted(schema.deliveryTable(), RETENTION_BATCH);
	}

	@Override
	public void start() {
		if (this.thread != null) {
			return;
		}
		this.stopped = new CountDownLatch(1);
		try {
			// registered before the application serves, so other instances hand over at once
			heartbeatIfDue();
		}
		catch (RuntimeException ex) {
			logger.warn("Cannot register this instance's subscribers yet; the relay keeps trying", ex);
		}
		this.claimer = Executors.newSingleThreadExecutor((task) -> {
			Thread claimer = new Thread(task, "events-relay-claim");
			claimer.setDaemon(true);
			return claimer;
		});
		Thread relay = new Thread(this::run, "events-relay");
		relay.setDaemon(true);
		this.thread = relay;
		relay.start();
	}

	@Override
	public void stop() {
		Thread relay = this.thread;
		if (relay == null) {
			return;
		}
		this.stopped.countDown();
		try {
			relay.join(TimeUnit.SECONDS.toMillis(2));
			if (relay.isAlive()) {
				// blocked on the database (a connection from an exhausted or dead pool)
				relay.interrupt();
				relay.join(TimeUnit.SECONDS.toMillis(10));
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		this.thread = null;
		ExecutorService claimer = this.claimer;
		this.claimer = null;
		abandon(this.nextClaim);
		this.nextClaim = null;
		if (claimer != null) {
			claimer.shutdown();
		}
	}

	@Override
	public boolean isRunning() {
		return this.thread != null;
	}

	private boolean running() {
		return this.stopped.getCount() > 0;
	}

	private void run() {
		try {
			while (running()) {
				try {
					heartbeatIfDue();
					int work = 0;
					if (this.settings.enabled()) {
						work = relayRows() + relayDeliveries();
						retentionIfDue();
					}
					recovered();
					if (work < this.settings.batchSize()) {
						awaitWork();
					}
				}
				catch (SQLException | RuntimeException ex) {
					failed(ex);
				}
			}
		}
		finally {
			abandon(this.nextClaim);
			this.nextClaim = null;
			closeListener();
		}
	}

	private void heartbeatIfDue() {
		if (System.nanoTime() - this.nextHeartbeat < 0) {
			return;
		}
		List<Map.Entry<String, List<String>>> entries = new ArrayList<>(
				this.subscribers.eventNamesBySubscriber().entrySet());
		if (!entries.isEmpty()) {
			this.jdbc.batchUpdate(this.registerSubscriber, new BatchPreparedStatementSetter() {

				@Override
				public void setValues(java.sql.PreparedStatement ps, int i) throws SQLException {
					ps.setString(1, entries.get(i).getKey());
					ps.setArray(2, ps.getConnection().createArrayOf("text", entries.get(i).getValue().toArray()));
				}

				@Override
				public int getBatchSize() {
					return entries.size();
				}

			});
		}
		this.nextHeartbeat = System.nanoTime() + HEARTBEAT.toNanos();
	}

	/**
	 * Claim a batch of audit rows no one is dispatching, deliver them, and record their
	 * outcomes, all in one transaction: its row locks are the claim. Held for no longer
	 * than the lease while idle: if the relay stalls (a long pause, a hung subscriber), the
	 * database ends the transaction, which releases the rows to other instances and
	 * discards whatever the stalled relay would record. While a backlog drains, the next
	 * batch is claimed on another connection as this one is delivered, so the database
	 * locks and reads it while the subscribers run; batches are still delivered one after
	 * the other, in id order.
	 * @return the rows claimed
	 * @throws SQLException when the database fails, or ended the claim
	 */
	int relayRows() throws SQLException {
		Claim claim = prefetched();
		if (claim == null) {
			claim = claim();
		}
		// a connection of its own, not bound to this thread: subscribers run in
		// transactions of their own
		try (Connection connection = claim.connection()) {
			try {
				List<AuditRow> rows = claim.rows();
				Executor claimer = this.claimer;
				// the next batch waits while this one is delivered: only when the last one
				// took well within the time a claim may wait (see prefetched())
				if (rows.size() == this.settings.batchSize() && claimer != null && running()
						&& this.lastDelivery < recordEvery().toNanos() / 2) {
					this.nextClaim = CompletableFuture.supplyAsync(this::claimUnchecked, claimer);
				}
				long start = System.nanoTime();
				if (!rows.isEmpty()) {
					this.sendEvents.deliverClaimed(rows, connection, recordEvery(), claim.lastStatement());
				}
				connection.commit();
				this.lastDelivery = System.nanoTime() - start;
				return rows.size();
			}
			catch (SQLException | RuntimeException ex) {
				rollbackQuietly(connection);
				this.lastDelivery = Long.MAX_VALUE;
				if (System.nanoTime() - claim.lastStatement() > this.settings.lease().toNanos()) {
					throw new SQLException("The relay's claim outlived events.relay.lease (a subscriber call took "
							+ "longer than the lease, or the process stalled) and the database ended it; its rows "
							+ "are delivered again", ex);
				}
				throw ex;
			}
		}
	}

	/**
	 * Lock the next batch of claimable rows in a transaction left open on a connection of
	 * its own.
	 */
	private Claim claim() throws SQLException {
		long lease = this.settings.lease().toMillis();
		int batch = this.settings.batchSize();
		Connection connection = this.dataSource.getConnection();
		try {
			connection.setAutoCommit(false);
			List<AuditRow> rows = new ArrayList<>(batch);
			DeliveryLedger.bookkeeping(connection, this.settings.lease());
			try (PreparedStatement claim = connection.prepareStatement(this.claimRows)) {
				AuditJdbc.customPlans(claim);
				claim.setLong(1, this.claimedUpTo);
				claim.setInt(2, batch);
				claim.setLong(3, lease);
				claim.setInt(4, batch);
				try (ResultSet rs = claim.executeQuery()) {
					while (rs.next()) {
						rows.add(AuditRow.read(rs));
					}
				}
			}
			long claimed = System.nanoTime();
			rows.sort(Comparator.comparingLong(AuditRow::id));
			// While a backlog drains, the next claim starts past this one: the rows just
			// marked leave dead entries in the pending index until vacuum, and scanning
			// over them again would cost more with every batch. A short batch means the
			// backlog is drained (or what remains is locked, or was passed over): start
			// from the beginning again.
			this.claimedUpTo = (rows.size() < batch) ? 0 : rows.get(rows.size() - 1).id();
			return new Claim(connection, rows, claimed);
		}
		catch (SQLException | RuntimeException ex) {
			release(connection);
			throw ex;
		}
	}

	private Claim claimUnchecked() {
		try {
			return claim();
		}
		catch (SQLException ex) {
			throw new CompletionException(ex);
		}
	}

	/**
	 * The batch claimed while the previous one was delivered, if any, and if it has not
	 * waited so long that the database may end its transaction before its first outcomes
	 * are recorded (then it is released, and claimed again).
	 */
	private @Nullable Claim prefetched() throws SQLException {
		CompletableFuture<Claim> next = this.nextClaim;
		if (next == null) {
			return null;
		}
		this.nextClaim = null;
		Claim claim;
		try {
			claim = next.get();
		}
		catch (InterruptedException ex) {
			abandon(next);
			Thread.currentThread().interrupt();
			throw new SQLException("Interrupted while claiming rows", ex);
		}
		catch (ExecutionException ex) {
			if (ex.getCause() instanceof SQLException failure) {
				throw failure;
			}
			throw (ex.getCause() instanceof RuntimeException failure) ? failure : new IllegalStateException(ex);
		}
		if (System.nanoTime() - claim.lastStatement() > recordEvery().toNanos()) {
			release(claim.connection());
			if (!claim.rows().isEmpty()) {
				// claimed again next, in order
				this.claimedUpTo = Math.min(this.claimedUpTo, claim.rows().get(0).id() - 1);
			}
			return null;
		}
		return claim;
	}

	private Duration recordEvery() {
		return this.settings.lease().dividedBy(3);
	}

	private static void abandon(@Nullable CompletableFuture<Claim> claim) {
		if (claim != null) {
			claim.thenAccept((abandoned) -> release(abandoned.connection()));
		}
	}

	private static void release(Connection connection) {
		rollbackQuietly(connection);
		try {
			connection.close();
		}
		catch (SQLException ex) {
			// closing a broken connection: the pool discards it
		}
	}

	/**
	 * Rows locked by the transaction open on a connection.
	 *
	 * @param connection holds the rows' locks until it commits or rolls back
	 * @param rows the rows, in id order
	 * @param lastStatement when the transaction last ran a statement (System.nanoTime()):
	 * the database ends it once it has been idle for the lease
	 */
	private record Claim(Connection connection, List<AuditRow> rows, long lastStatement) {
	}

	private static void rollbackQuietly(Connection connection) {
		try {
			connection.rollback();
		}
		catch (SQLException ex) {
			// the connection is gone: so is its transaction
		}
	}

	/**
	 * Claim a batch of due ledger entries of this instance's subscribers, and deliver them.
	 * @return the entries claimed
	 */
	int relayDeliveries() {
		List<String> names = this.subscribers.names();
		if (names.isEmpty()) {
			return 0;
		}
		long lease = this.settings.lease().toMillis();
		List<DeliveryLedger.ClaimedDelivery> entries = this.jdbc.query(this.claimDeliveries,
				(rs, row) -> new DeliveryLedger.ClaimedDelivery(rs.getLong(1), rs.getString(2), rs.getInt(3),
						rs.getInt(4)),
				this.jdbc.execute((Connection connection) -> connection.createArrayOf("text", names.toArray())),
				this.settings.batchSize(), lease);
		if (entries.isEmpty()) {
			return 0;
		}
		Long[] ids = entries.stream().map(DeliveryLedger.ClaimedDelivery::auditId).distinct().toArray(Long[]::new);
		Map<Long, AuditRow> rows = this.jdbc
			.query(this.selectRows, (rs, row) -> AuditRow.read(rs),
					this.jdbc.execute((Connection connection) -> connection.createArrayOf("bigint", ids)))
			.stream()
			.collect(Collectors.toMap(AuditRow::id, Function.identity()));
		entries.stream().sorted(Comparator.comparingLong(DeliveryLedger.ClaimedDelivery::auditId)).forEach((entry) -> {
			AuditRow row = rows.get(entry.auditId());
			if (row == null) {
				this.sendEvents.gone(entry);
			}
			else {
				this.sendEvents.deliver(entry, row);
			}
		});
		return entries.size();
	}

	private void retentionIfDue() {
		Duration retention = this.settings.retention();
		if (retention.isZero() || System.nanoTime() - this.nextRetention < 0) {
			return;
		}
		long cutoff = retention.toMillis();
		int deleted;
		do {
			deleted = this.jdbc.update(this.deleteProcessedRows, cutoff);
		}
		while (deleted == RETENTION_BATCH && running());
		do {
			deleted = this.jdbc.update(this.deleteDeliveredEntries, cutoff);
		}
		while (deleted == RETENTION_BATCH && running());
		Duration every = (retention.compareTo(Duration.ofMinutes(1)) < 0) ? retention : Duration.ofMinutes(1);
		this.nextRetention = System.nanoTime() + every.toNanos();
	}

	/**
	 * Wait for a notification on the audit channel, at most the poll interval; without a
	 * listener connection (it dropped, and its reconnection is backing off), just wait.
	 */
	private void awaitWork() {
		long deadline = System.nanoTime() + this.settings.pollInterval().toNanos();
		Connection connection = listener();
		try {
			while (running() && System.nanoTime() - deadline < 0) {
				long slice = Math.min(200, Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
				if (connection == null) {
					this.stopped.await(slice, TimeUnit.MILLISECONDS);
					continue;
				}
				PGNotification[] notifications = connection.unwrap(PGConnection.class).getNotifications((int) slice);
				if (notifications != null && notifications.length > 0) {
					return;
				}
			}
		}
		catch (SQLException ex) {
			listenerFailed(ex);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			this.stopped.countDown();
		}
	}

	private @Nullable Connection listener() {
		if (this.listener != null || !this.settings.enabled() || System.nanoTime() - this.nextListenAttempt < 0) {
			return this.listener;
		}
		try {
			Connection connection = this.dataSource.getConnection();
			connection.setAutoCommit(true);
			try (Statement statement = connection.createStatement()) {
				statement.execute(this.schema.listenStatement());
			}
			this.listener = connection;
			if (this.listenFailures > 0) {
				logger.info("Relay listens for new rows again");
			}
			this.listenFailures = 0;
		}
		catch (SQLException ex) {
			listenerFailed(ex);
		}
		return this.listener;
	}

	private void listenerFailed(SQLException ex) {
		closeListener();
		if (this.listenFailures++ == 0) {
			logger.warn("Relay lost its listener connection; it polls every " + this.settings.pollInterval()
					+ " until the connection is back (logged once)", ex);
		}
		long backoff = Math.min(MAX_ERROR_BACKOFF.toMillis(), 500L << Math.min(this.listenFailures, 6));
		this.nextListenAttempt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoff);
	}

	private void closeListener() {
		if (this.listener != null) {
			try {
				this.listener.close();
			}
			catch (SQLException ex) {
				// already broken
			}
			this.listener = null;
		}
	}

	private void failed(Exception ex) {
		if (this.failures++ == 0) {
			logger.warn("Relay failed; retrying with backoff (logged once until it recovers)", ex);
		}
		else if (logger.isDebugEnabled()) {
			logger.debug("Relay failed again (" + this.failures + " in a row)", ex);
		}
		long backoff = Math.min(MAX_ERROR_BACKOFF.toMillis(), 250L << Math.min(this.failures, 7));
		try {
			this.stopped.await(backoff, TimeUnit.MILLISECONDS);
		}
		catch (InterruptedException interrupted) {
			Thread.currentThread().interrupt();
			this.stopped.countDown();
		}
	}

	private void recovered() {
		if (this.failures > 0) {
			logger.info("Relay recovered after " + this.failures + " failed rounds");
			this.failures = 0;
		}
	}

}
