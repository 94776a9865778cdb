package dev.pgevents;

import javax.sql.DataSource;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.jdbc.DataSourceBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Primary;
import org.springframework.core.env.Environment;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An application with a second database and its own transaction manager, whose
 * transactions nest with the audited ones in either order: a subscriber sees only what
 * the audited database committed.
 */
class SecondDataSourceTests {

	ConfigurableApplicationContext context;

	TransactionTemplate audited;

	TransactionTemplate other;

	JdbcTemplate auditedJdbc;

	JdbcTemplate otherJdbc;

	MemberDeliveries members;

	@BeforeEach
	void start() {
		this.context = new SpringApplicationBuilder(App.class)
			.properties("test.audited-url=" + TestDatabase.create(), "test.other-url=" + TestDatabase.create(),
					"spring.main.banner-mode=off", "events.audit.tables=member")
			.run();
		this.auditedJdbc = new JdbcTemplate(this.context.getBean("dataSource", DataSource.class));
		this.otherJdbc = new JdbcTemplate(this.context.getBean("otherDataSource", DataSource.class));
		this.audited = new TransactionTemplate(
				this.context.getBean("transactionManager", DataSourceTransactionManager.class));
		this.other = new TransactionTemplate(
				this.context.getBean("otherTransactionManager", DataSourceTransactionManager.class));
		this.otherJdbc.execute("CREATE TABLE line (id int)");
		this.members = this.context.getBean(MemberDeliveries.class);
	}

	@AfterEach
	void stop() {
		this.context.close();
	}

	@Test
	void aRolledBackAuditedTransactionAroundACommittedOtherOneDeliversNothing() {
		this.audited.executeWithoutResult((outer) -> {
			insertMember();
			this.other.executeWithoutResult((inner) -> this.otherJdbc.update("INSERT INTO line VALUES (1)"));
			insertMember();
			outer.setRollbackOnly();
		});

		assertThat(this.members.deliveries).isEmpty();
		assertThat(this.auditedJdbc.queryForObject("SELECT count(*) FROM keel_audit", Integer.class)).isZero();
	}

	@Test
	void aCommittedAuditedTransactionAroundAnOtherOneDeliversEachChangeOnceAtItsCommit() {
		this.audited.executeWithoutResult((outer) -> {
			insertMember();
			this.other.executeWithoutResult((inner) -> this.otherJdbc.update("INSERT INTO line VALUES (1)"));
			assertThat(this.members.deliveries).isEmpty();
			insertMember();
		});

		assertThat(this.members.deliveries).hasSize(2).allSatisfy((id, count) -> assertThat(count).hasValue(1));
	}

	@Test
	void anAuditedTransactionInsideAnOtherOneIsDeliveredAtItsOwnCommit() {
		this.other.executeWithoutResult((outer) -> {
			this.otherJdbc.update("INSERT INTO line VALUES (1)");
			this.audited.executeWithoutResult((inner) -> insertMember());
			assertThat(this.members.deliveries).hasSize(1);
			outer.setRollbackOnly(); // the audited database committed regardless
		});

		assertThat(this.members.deliveries).hasSize(1).allSatisfy((id, count) -> assertThat(count).hasValue(1));
	}

	private void insertMember() {
		this.auditedJdbc.update("INSERT INTO member (name, email) VALUES ('m', 'm')");
	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class App {

		@Bean
		@Primary
		DataSource dataSource(Environment environment) {
			DataSource dataSource = DataSourceBuilder.create()
				.url(environment.getRequiredProperty("test.audited-url"))
				.build();
			new JdbcTemplate(dataSource)
				.execute("CREATE TABLE member (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), name text, email text)");
			return dataSource;
		}

		@Bean
		DataSource otherDataSource(Environment environment) {
			return DataSourceBuilder.create().url(environment.getRequiredProperty("test.other-url")).build();
		}

		@Bean
		@Primary
		DataSourceTransactionManager transactionManager(DataSource dataSource) {
			return new DataSourceTransactionManager(dataSource);
		}

		@Bean
		DataSourceTransactionManager otherTransactionManager(@Qualifier("otherDataSource") DataSource dataSource) {
			return new DataSourceTransactionManager(dataSource);
		}

		@Bean
		MemberDeliveries members() {
			return new MemberDeliveries();
		}

	}

}
