package dev.pgevents;

import javax.sql.DataSource;

import org.springframework.context.ApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Writes in a transaction of an application's own transaction manager, which delivers its
 * events after commit.
 */
final class InTransaction {

	private final TransactionTemplate transactions;

	private final JdbcTemplate jdbc;

	/**
	 * A bean for the tests that {@code @Import} it.
	 * @param transactions the application's transactions
	 * @param jdbc the application's JDBC access
	 */
	InTransaction(TransactionTemplate transactions, JdbcTemplate jdbc) {
		this.transactions = transactions;
		this.jdbc = jdbc;
	}

	static void write(ApplicationContext context, String... statements) {
		new InTransaction(new TransactionTemplate(context.getBean(PlatformTransactionManager.class)),
				new JdbcTemplate(context.getBean(DataSource.class)))
			.write(statements);
	}

	/**
	 * Run statements in one transaction.
	 * @param statements the statements
	 */
	void write(String... statements) {
		this.transactions.executeWithoutResult((status) -> {
			for (String sql : statements) {
				this.jdbc.update(sql);
			}
		});
	}

}
