package dev.pgevents;

import javax.sql.DataSource;

import org.springframework.context.ApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Writes in a transaction of an application's own transaction manager, which delivers its
 * events after commit, for tests that start applications with a context runner.
 */
final class InTransaction {

	private InTransaction() {
	}

	static void write(ApplicationContext context, String... statements) {
		JdbcTemplate jdbc = new JdbcTemplate(context.getBean(DataSource.class));
		new TransactionTemplate(context.getBean(PlatformTransactionManager.class)).executeWithoutResult((status) -> {
			for (String sql : statements) {
				jdbc.update(sql);
			}
		});
	}

}
