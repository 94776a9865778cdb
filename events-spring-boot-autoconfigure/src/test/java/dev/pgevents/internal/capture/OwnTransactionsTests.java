package dev.pgevents.internal.capture;

import java.sql.Connection;

import com.zaxxer.hikari.HikariDataSource;
import org.junit.jupiter.api.Test;

import dev.pgevents.TestDatabase;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.jdbc.datasource.TransactionAwareDataSourceProxy;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The starter's connections are in autocommit in a pool without it, but never the
 * connection of the calling thread's application transaction.
 */
class OwnTransactionsTests {

	@Test
	void aPooledConnectionIsSwitchedToAutocommitButNotTheCallersTransactionalOne() throws Exception {
		try (HikariDataSource pool = new HikariDataSource()) {
			pool.setJdbcUrl(TestDatabase.create());
			pool.setAutoCommit(false);
			pool.setMaximumPoolSize(2);
			// a DataSource that hands out the calling thread's transactional connection
			OwnTransactions own = new OwnTransactions(new TransactionAwareDataSourceProxy(pool));
			try (Connection borrowed = own.dataSource().getConnection()) {
				assertThat(borrowed.getAutoCommit()).isTrue();
			}
			new JdbcTemplate(own.dataSource()).execute("CREATE TABLE note (body text)"); // committed
			DataSourceTransactionManager manager = new DataSourceTransactionManager(pool);
			new TransactionTemplate(manager).executeWithoutResult((status) -> {
				new JdbcTemplate(pool).update("INSERT INTO note VALUES ('unfinished')");
				Connection application = DataSourceUtils.getConnection(pool);
				try (Connection borrowed = own.dataSource().getConnection()) {
					assertThat(application.getAutoCommit()).as("the application transaction's connection").isFalse();
				}
				catch (Exception ex) {
					throw new IllegalStateException(ex);
				}
				status.setRollbackOnly();
			});
			assertThat(new JdbcTemplate(pool).queryForObject("SELECT count(*) FROM note", Long.class)).isZero();
		}
	}

}
