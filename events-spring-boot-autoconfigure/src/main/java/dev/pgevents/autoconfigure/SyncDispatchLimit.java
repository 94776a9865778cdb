package dev.pgevents.autoconfigure;

import javax.sql.DataSource;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.aop.framework.AopProxyUtils;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.jdbc.metadata.CompositeDataSourcePoolMetadataProvider;
import org.springframework.boot.jdbc.metadata.DataSourcePoolMetadata;
import org.springframework.boot.jdbc.metadata.DataSourcePoolMetadataProvider;

/**
 * How many committing threads may run subscribers at once in sync mode.
 * <p>
 * Such a thread still holds its transaction's connection while its subscribers take
 * connections of their own. If every connection of the pool were held by a thread that
 * waits for another, none would ever be released: so at most the pool's size, less what
 * the relay may hold while it waits the same way (its claim, the claim it makes ahead,
 * its listener), less one, run subscribers in their committing thread; the others hand
 * their transaction to the dispatch executor, whose threads hold nothing while they wait.
 * Each subscriber call is assumed to hold at most one connection at a time. A pool whose
 * size is unknown gets no committing thread unless {@code events.dispatch.sync-limit}
 * says how many.
 */
final class SyncDispatchLimit {

	private static final Log logger = LogFactory.getLog(SyncDispatchLimit.class);

	/** Held by the relay while its subscribers run: the claim, the next claim, LISTEN. */
	private static final int RELAY_CONNECTIONS = 3;

	private SyncDispatchLimit() {
	}

	/**
	 * The limit for the application's pool.
	 * @param dataSource the pool
	 * @param pools what Spring Boot knows of connection pools
	 * @param relay whether the relay runs in this instance
	 * @param configured {@code events.dispatch.sync-limit}, or {@code null} to derive it
	 * @return the number of threads; 0, which hands every transaction over, when the
	 * pool's size is unknown
	 */
	static int of(DataSource dataSource, ObjectProvider<DataSourcePoolMetadataProvider> pools, boolean relay,
			@Nullable Integer configured) {
		int reserved = (relay ? RELAY_CONNECTIONS : 0) + 1;
		if (configured != null) {
			logger.debug("Sync dispatch: at most " + configured + " committing threads run subscribers at once "
					+ "(events.dispatch.sync-limit)");
			return configured;
		}
		DataSourcePoolMetadata pool = new CompositeDataSourcePoolMetadataProvider(pools.orderedStream().toList())
			.getDataSourcePoolMetadata(dataSource);
		Integer size = (pool != null) ? pool.getMax() : null;
		if (size == null || size < 0) {
			logger.info("The size of the connection pool (" + AopProxyUtils.ultimateTargetClass(dataSource).getName()
					+ ") is unknown to "
					+ "Spring Boot: in events.dispatch.mode=sync every transaction's events are handed to the "
					+ "dispatch executor, so that no committing thread waits for a second connection while it holds "
					+ "its own. To run subscribers in the committing thread, set events.dispatch.sync-limit to the "
					+ "pool's size less " + reserved + " (or less)");
			return 0;
		}
		int limit = Math.max(0, size - reserved);
		if (limit == 0) {
			logger.warn("The connection pool has " + size + " connections: too few for events.dispatch.mode=sync, "
					+ "where a committing thread holds its connection while its subscribers take others. Every "
					+ "transaction's events are handed to the dispatch executor (as in async mode). Give the pool at "
					+ "least " + (reserved + 1) + " connections to run subscribers in the committing thread");
		}
		else if (logger.isDebugEnabled()) {
			logger.debug("Sync dispatch: at most " + limit + " committing threads run subscribers at once (a pool of "
					+ size + "); others hand their events to the dispatch executor");
		}
		return limit;
	}

}
