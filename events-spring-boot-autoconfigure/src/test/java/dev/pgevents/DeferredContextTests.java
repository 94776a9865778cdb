package dev.pgevents;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariDataSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.aop.support.AopUtils;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A transaction's capture context is sent just before its first statement that may write
 * an audited table: a transaction that writes none sends nothing for it, and one that
 * does is captured with its identity, whichever way it sends the statement.
 */
@WithTestDatabase
@SpringBootTest(classes = DeferredContextTests.App.class,
		properties = { TestApplications.SQL_INIT, TestApplications.MEMBER_SCHEMA })
class DeferredContextTests {

	@Autowired
	JdbcTemplate jdbc;

	@Autowired
	TransactionTemplate transactions;

	@Autowired
	DataSource dataSource;

	@Autowired
	MemberDeliveries members;

	@BeforeEach
	void clear() {
		this.members.deliveries.clear();
	}

	@Test
	void theDataSourceKeepsItsType() {
		assertThat(AopUtils.isAopProxy(this.dataSource)).isTrue();
		assertThat(this.dataSource).isInstanceOf(HikariDataSource.class);
	}

	@Test
	void aTransactionThatWritesNoAuditedTableSendsNoContext() {
		String scope = this.transactions.execute((status) -> {
			this.jdbc.queryForObject("SELECT count(*) FROM member", Integer.class);
			this.jdbc.update("INSERT INTO note (body) VALUES ('not audited')");
			return scope();
		});
		assertThat(scope).isNullOrEmpty();
	}

	@Test
	void theContextIsSentBeforeTheFirstWriteOfAnAuditedTable() {
		UUID id = UUID.randomUUID();
		List<String> scopes = this.transactions.execute((status) -> {
			this.jdbc.update("INSERT INTO note (body) VALUES ('not audited')");
			String before = scope();
			this.jdbc.update("INSERT INTO member (id, name, email) VALUES (?, 'a', 'a')", id);
			return Arrays.asList(before, scope());
		});
		assertThat(scopes.get(0)).isNullOrEmpty();
		assertThat(scopes.get(1)).isNotEmpty();
		assertCapturedWithIdentityAndDelivered(id);
	}

	@Test
	void statementsWithoutParametersSendItToo() {
		UUID id = UUID.randomUUID();
		this.transactions.executeWithoutResult((status) -> this.jdbc
			.execute("/* plain */ INSERT INTO member (id, name, email) VALUES ('" + id + "', 'b', 'b')"));
		assertCapturedWithIdentityAndDelivered(id);
	}

	@Test
	void aRollbackToASavepointThatUndidTheContextSendsItAgain() {
		UUID rolledBack = UUID.randomUUID();
		UUID kept = UUID.randomUUID();
		this.transactions.executeWithoutResult((status) -> {
			try {
				// the transaction's own connection, as a nested transaction uses it
				Connection connection = DataSourceUtils.getConnection(this.dataSource);
				Savepoint savepoint = connection.setSavepoint();
				this.jdbc.update("INSERT INTO member (id, name, email) VALUES (?, 'c', 'c')", rolledBack);
				connection.rollback(savepoint);
			}
			catch (SQLException ex) {
				throw new IllegalStateException(ex);
			}
			this.jdbc.update("INSERT INTO member (id, name, email) VALUES (?, 'd', 'd')", kept);
		});
		assertCapturedWithIdentityAndDelivered(kept);
		assertThat(this.members.deliveries).doesNotContainKey(rolledBack);
	}

	private String scope() {
		return this.jdbc.queryForObject("SELECT current_setting('pgevents.scope', true)", String.class);
	}

	private void assertCapturedWithIdentityAndDelivered(UUID id) {
		Map<String, Object> row = this.jdbc
			.queryForMap("SELECT identity_id, scope_id FROM keel_audit WHERE data ->> 'id' = ?", id.toString());
		assertThat(row).containsEntry("identity_id", "someone").doesNotContainEntry("scope_id", null);
		// delivered by the committing thread, not left to the relay
		assertThat(this.members.deliveries).containsKey(id);
	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	@Import(MemberDeliveries.class)
	static class App {

		@Bean
		IdentityResolver identityResolver() {
			return () -> "someone";
		}

	}

}
