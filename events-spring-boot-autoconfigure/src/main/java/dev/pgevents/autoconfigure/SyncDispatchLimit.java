package dev.pgevents.autoconfigure;

import javax.sql.DataSource;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

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
 * Each subscriber call is assumed to hold at most one connection at a time.
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
	 * @return the number of threads, {@link Integer#MAX_VALUE} when the pool's size is
	 * unknown
	 */
	static int of(DataSource dataSource, ObjectProvider<DataSourcePoolMetadataProvider> pools, boolean relay) {
		DataSourcePoolMetadata pool = new CompositeDataSourcePoolMetadataProvider(pools.orderedStream().toList())
			.getDataSourcePoolMetadata(dataSource);
		Integer size = (pool != null) ? pool.getMax() : null;
		if (size == null || size < 0) {
			return Integer.MAX_VALUE;
		}
		int reserved = (relay ? RELAY_CONNECTIONS : 0) + 1;
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
