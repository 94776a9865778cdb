package dev.pgevents.internal.dispatch;

import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

import javax.sql.DataSource;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import dev.pgevents.internal.capture.AuditSchema;

import org.springframework.jdbc.core.JdbcTemplate;

/**
 * This instance's hold on the transactions it dispatches after commit. Their scopes carry
 * its id as their first 8 bytes, and it keeps a row of the instance table fresh while it
 * runs: no relay takes over the rows of such a scope, however old, unless the instance is
 * gone (its row is stale or deleted) or gave the scope up (its dispatch failed, and it
 * leaves the rows to the relays). So an after-commit dispatch is never raced by a relay,
 * whatever the length of the transaction or of its subscriber calls.
 * <p>
 * A scope that starts with the instance's id but that it never issued (written by hand by
 * a session of a trusted role: others cannot set a scope at all) holds its rows back no
 * longer than the lease: the instance tells its own scopes by a keyed tag, and leaves the
 * others' rows to the relays at its next beat.
 * <p>
 * An instance without a relay holds its transactions too. The scopes it gives up are
 * handed to the other instances' relays at its next beat: their undispatched rows lose
 * their scope, as rows written outside the application have none.
 * <p>
 * The scopes given up are kept until their rows are processed. Should that set grow past
 * its bound (a long outage fails every dispatch), the instance gives up, until it
 * restarts, all its scopes whose rows are older than the lease instead.
 */
final class InstanceHold {

	private static final Log logger = LogFactory.getLog(InstanceHold.class);

	private static final int MAX_GIVEN_UP = 10_000;

	private final long id = ThreadLocalRandom.current().nextLong();

	/**
	 * Signs this instance's scopes: a scope's low half is a sequence number and a tag
	 * made from it with this key, so that a scope written by hand with the instance's id
	 * (by a session of a trusted role) is told from one the instance issued, and never
	 * holds its rows back past the lease.
	 */
	private final long key = ThreadLocalRandom.current().nextLong();

	private final AtomicInteger sequence = new AtomicInteger(ThreadLocalRandom.current().nextInt());

	/** Whether this instance's own relay delivers the scopes it gives up. */
	private final boolean relays;

	private final JdbcTemplate jdbc;

	private final String beat;

	private final String retire;

	private final String stillPending;

	private final String handOver;

	private final String heldOld;

	private final String release;

	private final Set<UUID> givenUp = ConcurrentHashMap.newKeySet();

	private volatile boolean gaveUpAll;

	/**
	 * Create the instance's hold.
	 * @param dataSource the audited database
	 * @param schema the audit schema
	 * @param relays whether the instance's relay runs, and so delivers the scopes it
	 * gives up (else they are handed to the other instances' relays)
	 * @param lease how old rows are before the relays take them over
	 */
	InstanceHold(DataSource dataSource, AuditSchema schema, boolean relays, Duration lease) {
		this.relays = relays;
		this.jdbc = new CustomPlanJdbc(dataSource);
		// instances gone for a day are forgotten
		this.beat = """
				WITH forgotten AS (
					DELETE FROM %1$s WHERE last_seen_at < clock_timestamp() - interval '1 day'
				)
				INSERT INTO %1$s (id) VALUES (?) ON CONFLICT (id) DO UPDATE SET last_seen_at = clock_timestamp()
				""".formatted(schema.instanceTable());
		this.retire = "DELETE FROM " + schema.instanceTable() + " WHERE id = ?";
		this.stillPending = "SELECT DISTINCT scope_id FROM " + schema.auditTable()
				+ " WHERE scope_id = ANY (?::uuid[]) AND event_processed_at IS NULL";
		// found through the index of undispatched rows by scope: this instance's scopes
		// are those between its id followed by zeros and by ones
		this.handOver = """
				UPDATE %1$s SET scope_id = NULL
				WHERE event_processed_at IS NULL AND (scope_id = ANY (?::uuid[])
					OR (? AND scope_id BETWEEN ? AND ? AND created_at < clock_timestamp() - %2$d * interval '1 millisecond'))
				"""
			.formatted(schema.auditTable(), lease.toMillis());
		this.heldOld = """
				SELECT DISTINCT scope_id FROM %1$s
				WHERE event_processed_at IS NULL AND scope_id BETWEEN ? AND ?
					AND created_at < clock_timestamp() - %2$d * interval '1 millisecond'
				""".formatted(schema.auditTable(), lease.toMillis());
		this.release = "UPDATE " + schema.auditTable()
				+ " SET scope_id = NULL WHERE event_processed_at IS NULL AND scope_id = ANY (?::uuid[])";
	}

	/**
	 * A new scope for a transaction this instance will dispatch.
	 * @return a random scope, which starts with this instance's id
	 */
	UUID newScope() {
		int sequence = this.sequence.incrementAndGet();
		return new UUID(this.id, ((long) sequence << 32) | (tag(sequence) & 0xFFFFFFFFL));
	}

	/** Whether this instance issued a scope that starts with its id. */
	private boolean issued(UUID scope) {
		int sequence = (int) (scope.getLeastSignificantBits() >>> 32);
		return (int) scope.getLeastSignificantBits() == tag(sequence);
	}

	/** SplitMix64's finalizer over the sequence number and the key. */
	private int tag(int sequence) {
		long z = (sequence ^ this.key) + 0x9E3779B97F4A7C15L;
		z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
		z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
		return (int) (z ^ (z >>> 31));
	}

	/**
	 * This instance's id, as the first 8 bytes of its scopes.
	 * @return the id's bytes
	 */
	byte[] key() {
		return ByteBuffer.allocate(Long.BYTES).putLong(this.id).array();
	}

	/**
	 * Show that this instance runs (from the keeper's thread, every third of the lease).
	 */
	void beat() {
		this.jdbc.update(this.beat, (Object) key());
		if (!this.relays) {
			handOver();
		}
		releaseForged();
	}

	/**
	 * Leave to the relays the rows older than the lease whose scope starts with this
	 * instance's id but that it never issued: written by hand, they would be held while
	 * it runs. Found through the index of undispatched rows by scope, as few as the
	 * transactions still in dispatch after the lease.
	 */
	private void releaseForged() {
		List<UUID> held = this.jdbc.queryForList(this.heldOld, UUID.class, new UUID(this.id, 0L),
				new UUID(this.id, -1L));
		List<UUID> forged = held.stream().filter((scope) -> !issued(scope)).toList();
		if (!forged.isEmpty()) {
			logger.warn("Rows of " + forged.size() + " scope(s) name this instance, which never issued them (written "
					+ "by hand in a session of a trusted role?): left to the relays");
			this.jdbc.execute((Connection connection) -> {
				try (PreparedStatement update = connection.prepareStatement(this.release)) {
					update.setArray(1, connection.createArrayOf("uuid", forged.toArray()));
					return update.executeUpdate();
				}
			});
		}
	}

	/**
	 * Hand the scopes given up to the other instances' relays (an instance without a
	 * relay of its own), and all its rows older than the lease once it gave up all.
	 */
	private void handOver() {
		if (this.givenUp.isEmpty() && !this.gaveUpAll) {
			return;
		}
		List<UUID> scopes = givenUp();
		this.jdbc.execute((Connection connection) -> {
			try (PreparedStatement update = connection.prepareStatement(this.handOver)) {
				update.setArray(1, connection.createArrayOf("uuid", scopes.toArray()));
				update.setBoolean(2, this.gaveUpAll);
				// the database orders uuids byte by byte, unsigned
				update.setObject(3, new UUID(this.id, 0L));
				update.setObject(4, new UUID(this.id, -1L));
				return update.executeUpdate();
			}
		});
		scopes.forEach(this.givenUp::remove);
	}

	/**
	 * Leave the rows of this instance's scopes to the relays (it stops).
	 */
	void retire() {
		this.jdbc.update(this.retire, (Object) key());
	}

	/**
	 * Leave the rows of a scope to the relays: its dispatch failed.
	 * @param scope the scope
	 */
	void giveUp(UUID scope) {
		if (this.givenUp.size() >= MAX_GIVEN_UP) {
			if (!this.gaveUpAll) {
				this.gaveUpAll = true;
				logger.warn("More than " + MAX_GIVEN_UP + " transactions could not be dispatched after commit: the "
						+ "relays take over every undispatched row of this instance older than the lease");
			}
			return;
		}
		this.givenUp.add(scope);
	}

	/**
	 * The scopes given up whose rows may not all be processed yet.
	 * @return the scopes
	 */
	List<UUID> givenUp() {
		return new ArrayList<>(this.givenUp);
	}

	/**
	 * Whether every scope of this instance is given up.
	 * @return whether the set of scopes given up overflowed
	 */
	boolean gaveUpAll() {
		return this.gaveUpAll;
	}

	/**
	 * Forget the scopes given up whose rows are all processed.
	 */
	void prune() {
		if (this.givenUp.isEmpty()) {
			return;
		}
		List<UUID> scopes = givenUp();
		List<UUID> found = this.jdbc.execute((Connection connection) -> {
			try (PreparedStatement select = connection.prepareStatement(this.stillPending)) {
				select.setArray(1, connection.createArrayOf("uuid", scopes.toArray()));
				List<UUID> scopesFound = new ArrayList<>();
				try (ResultSet rs = select.executeQuery()) {
					while (rs.next()) {
						scopesFound.add(rs.getObject(1, UUID.class));
					}
				}
				return scopesFound;
			}
		});
		Set<UUID> pending = (found != null) ? new HashSet<>(found) : Set.of();
		scopes.stream().filter((scope) -> !pending.contains(scope)).forEach(this.givenUp::remove);
	}

	/**
	 * How long an instance's row stays fresh after its last beat.
	 * @param lease the lease
	 * @return the lease: an instance beats three times in it
	 */
	static Duration expiry(Duration lease) {
		return lease;
	}

}
