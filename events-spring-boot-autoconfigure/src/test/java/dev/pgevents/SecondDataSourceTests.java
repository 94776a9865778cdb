package dev.pgevents;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import javax.sql.DataSource;

import jakarta.persistence.EntityManager;
import jakarta.persistence.EntityManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.jdbc.DataSourceBuilder;
import org.springframework.boot.persistence.autoconfigure.EntityScan;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Primary;
import org.springframework.core.env.Environment;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.orm.jpa.JpaTransactionManager;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * An application with a second database and a transaction manager of its own, whose
 * transactions nest with the audited database's in every order, with JDBC and with JPA as
 * the audited database's manager, in sync and async mode: the databases hold exactly what
 * Spring's transaction semantics commit, and the subscribers get exactly the committed
 * rows, once. A transaction of the other manager that ends inside an audited one never
 * ends the audited one's work.
 */
class SecondDataSourceTests {

	private static final Map<String, TwoDatabases> applications = new ConcurrentHashMap<>();

	private static final AtomicInteger names = new AtomicInteger();

	@AfterAll
	static void close() {
		applications.values().forEach((application) -> application.context.close());
		applications.clear();
	}

	static List<Arguments> shapes() {
		List<Arguments> arguments = new ArrayList<>();
		for (String mode : List.of("sync", "async")) {
			for (String manager : List.of("jdbc", "jpa")) {
				for (Shape shape : Shape.values()) {
					arguments.add(Arguments.of(mode, manager, shape, true));
					arguments.add(Arguments.of(mode, manager, shape, false));
				}
			}
		}
		return arguments;
	}

	@ParameterizedTest(name = "{0}, {1}: {2}, commit={3}")
	@MethodSource("shapes")
	void nestedTransactionsOfTwoManagersCommitAndDeliverExactlyWhatSpringCommits(String mode, String manager,
			Shape shape, boolean commit) {
		TwoDatabases app = application(mode, manager);
		String name = "n" + names.incrementAndGet();

		Expected expected = shape.run(app, name, commit);

		assertThat(app.members(app.auditedJdbc, name)).as("the audited database")
			.containsExactlyInAnyOrderElementsOf(expected.audited);
		assertThat(app.members(app.otherJdbc, name)).as("the other database")
			.containsExactlyInAnyOrderElementsOf(expected.other);
		await().until(() -> app.auditedJdbc
			.queryForObject("SELECT count(*) FROM keel_audit WHERE event_processed_at IS NULL", Integer.class) == 0);
		assertThat(app.delivered(name)).as("the deliveries").containsExactlyInAnyOrderElementsOf(expected.audited);
	}

	@Test
	void aRolledBackAuditedTransactionAroundACommittedOtherOneDeliversNothing() {
		TwoDatabases app = application("sync", "jdbc");
		String name = "n" + names.incrementAndGet();
		app.audited.executeWithoutResult((outer) -> {
			app.insertAudited(name + "-1");
			app.other.executeWithoutResult((inner) -> app.insertOther(name + "-o"));
			app.insertAudited(name + "-2");
			outer.setRollbackOnly();
		});

		assertThat(app.delivered(name)).isEmpty();
		assertThat(app.auditedJdbc.queryForObject("SELECT count(*) FROM keel_audit a WHERE a.data->>'name' LIKE ?",
				Integer.class, name + "-%"))
			.isZero();
	}

	@Test
	void aCommittedAuditedTransactionAroundAnOtherOneDeliversEachChangeOnceAtItsCommit() {
		TwoDatabases app = application("sync", "jdbc");
		String name = "n" + names.incrementAndGet();
		app.audited.executeWithoutResult((outer) -> {
			app.insertAudited(name + "-1");
			app.other.executeWithoutResult((inner) -> app.insertOther(name + "-o"));
			assertThat(app.delivered(name)).isEmpty();
			app.insertAudited(name + "-2");
		});

		assertThat(app.delivered(name)).containsExactlyInAnyOrder(name + "-1", name + "-2");
	}

	@Test
	void anAuditedTransactionInsideAnOtherOneIsDeliveredAtItsOwnCommit() {
		TwoDatabases app = application("sync", "jdbc");
		String name = "n" + names.incrementAndGet();
		app.other.executeWithoutResult((outer) -> {
			app.insertOther(name + "-o");
			app.audited.executeWithoutResult((inner) -> app.insertAudited(name + "-1"));
			assertThat(app.delivered(name)).containsExactly(name + "-1");
			outer.setRollbackOnly(); // the audited database committed regardless
		});

		assertThat(app.delivered(name)).containsExactly(name + "-1");
	}

	private static TwoDatabases application(String mode, String manager) {
		return applications.computeIfAbsent(mode + "/" + manager,
				(key) -> new TwoDatabases(new SpringApplicationBuilder(App.class)
					.properties("test.audited-url=" + TestDatabase.create(), "test.other-url=" + TestDatabase.create(),
							"test.audited-manager=" + manager, "events.dispatch.mode=" + mode,
							"spring.main.banner-mode=off", "spring.jpa.hibernate.ddl-auto=none",
							"spring.jpa.open-in-view=false", "events.audit.tables=member")
					.run()));
	}

	/**
	 * What a shape should leave committed: the names of the audited database's rows, and
	 * of the other database's.
	 */
	record Expected(List<String> audited, List<String> other) {

	}

	/**
	 * Ways of nesting the two managers' transactions. The outcome ({@code commit} or not)
	 * is that of the audited manager's transactions (and, where the other manager's is
	 * the outermost, of that one too).
	 */
	enum Shape {

		/**
		 * The code: the audited write in the other manager's transaction joins
		 * the outer audited one, which ends after the inner one has committed.
		 */
		AUDITED_AROUND_OTHER {
			@Override
			Expected run(TwoDatabases app, String name, boolean commit) {
				app.audited.executeWithoutResult((outer) -> {
					app.other.executeWithoutResult((inner) -> {
						app.insertAudited(name + "-a");
						app.insertOther(name + "-o");
					});
					rollbackUnless(commit, outer);
				});
				return new Expected(commit ? List.of(name + "-a") : List.of(), List.of(name + "-o"));
			}
		},

		/** The mirror: the audited transaction is the inner one. */
		OTHER_AROUND_AUDITED {
			@Override
			Expected run(TwoDatabases app, String name, boolean commit) {
				app.other.executeWithoutResult((outer) -> {
					app.audited.executeWithoutResult((inner) -> {
						app.insertAudited(name + "-a");
						app.insertOther(name + "-o");
						rollbackUnless(commit, inner);
					});
					rollbackUnless(commit, outer);
				});
				return new Expected(commit ? List.of(name + "-a") : List.of(),
						commit ? List.of(name + "-o") : List.of());
			}
		},

		/**
		 * {@code REQUIRES_NEW} of the audited manager inside the other's transaction,
		 * itself inside an audited transaction that writes before and after.
		 */
		REQUIRES_NEW_INSIDE_OTHER_INSIDE_AUDITED {
			@Override
			Expected run(TwoDatabases app, String name, boolean commit) {
				app.audited.executeWithoutResult((outer) -> {
					app.insertAudited(name + "-before");
					app.other.executeWithoutResult((middle) -> {
						app.auditedNew.executeWithoutResult((inner) -> app.insertAudited(name + "-new"));
						app.insertOther(name + "-o");
					});
					app.insertAudited(name + "-after");
					rollbackUnless(commit, outer);
				});
				return new Expected(
						commit ? List.of(name + "-before", name + "-new", name + "-after") : List.of(name + "-new"),
						List.of(name + "-o"));
			}
		},

		/** {@code REQUIRES_NEW} of the audited manager inside the other's transaction. */
		REQUIRES_NEW_INSIDE_OTHER {
			@Override
			Expected run(TwoDatabases app, String name, boolean commit) {
				app.other.executeWithoutResult((outer) -> {
					app.insertOther(name + "-o");
					app.auditedNew.executeWithoutResult((inner) -> {
						app.insertAudited(name + "-new");
						rollbackUnless(commit, inner);
					});
				});
				return new Expected(commit ? List.of(name + "-new") : List.of(), List.of(name + "-o"));
			}
		};

		abstract Expected run(TwoDatabases app, String name, boolean commit);

		private static void rollbackUnless(boolean commit, org.springframework.transaction.TransactionStatus status) {
			if (!commit) {
				status.setRollbackOnly();
			}
		}

	}

	static final class TwoDatabases {

		final ConfigurableApplicationContext context;

		final TransactionTemplate audited;

		final TransactionTemplate auditedNew;

		final TransactionTemplate other;

		final JdbcTemplate auditedJdbc;

		final JdbcTemplate otherJdbc;

		final ObjectProvider<EntityManager> entityManager;

		final boolean jpa;

		final Names delivered;

		TwoDatabases(ConfigurableApplicationContext context) {
			this.context = context;
			PlatformTransactionManager auditedManager = context.getBean("transactionManager",
					PlatformTransactionManager.class);
			this.jpa = auditedManager instanceof JpaTransactionManager;
			this.audited = new TransactionTemplate(auditedManager);
			this.auditedNew = new TransactionTemplate(auditedManager);
			this.auditedNew.setPropagationBehavior(TransactionDefinition.PROPAGATION_REQUIRES_NEW);
			this.other = new TransactionTemplate(
					context.getBean("otherTransactionManager", PlatformTransactionManager.class));
			this.auditedJdbc = new JdbcTemplate(context.getBean("dataSource", DataSource.class));
			this.otherJdbc = new JdbcTemplate(context.getBean("otherDataSource", DataSource.class));
			this.entityManager = context.getBeanProvider(EntityManager.class);
			this.delivered = context.getBean(Names.class);
		}

		/**
		 * Write a member on the audited database: with JPA, an entity that Hibernate
		 * flushes at commit, and a row through JDBC on the transaction's connection.
		 */
		void insertAudited(String name) {
			if (this.jpa) {
				this.entityManager.getObject()
					.persist(new JpaDeliveryTests.MemberEntity(java.util.UUID.randomUUID(), name + "-jpa", name));
			}
			this.auditedJdbc.update("INSERT INTO member (name, email) VALUES (?, ?)", name, name);
		}

		void insertOther(String name) {
			this.otherJdbc.update("INSERT INTO member (name, email) VALUES (?, ?)", name, name);
		}

		/**
		 * The names a test wrote, as rows of a database: with JPA, the entity's row is
		 * counted as its JDBC twin's (both commit or neither).
		 */
		List<String> members(JdbcTemplate jdbc, String prefix) {
			List<String> rows = jdbc.queryForList("SELECT name FROM member WHERE name LIKE ? ORDER BY name",
					String.class, prefix + "-%");
			return twins(rows);
		}

		List<String> delivered(String prefix) {
			return twins(this.delivered.names.stream().filter((name) -> name.startsWith(prefix + "-")).toList());
		}

		private List<String> twins(List<String> names) {
			if (!this.jpa) {
				return names;
			}
			List<String> rows = names.stream().filter((name) -> !name.endsWith("-jpa")).toList();
			List<String> entities = names.stream()
				.filter((name) -> name.endsWith("-jpa"))
				.map((name) -> name.substring(0, name.length() - 4))
				.toList();
			// the entity and the row of one name commit together, or neither does; where
			// they disagree, the assertion shows the orphan
			return Set.copyOf(rows).equals(Set.copyOf(entities)) ? rows : names;
		}

	}

	/**
	 * Records the names of the members delivered as created.
	 */
	static class Names {

		final List<String> names = new CopyOnWriteArrayList<>();

		@EventSubscriber("member.created")
		void created(Event event) {
			this.names.add((String) event.target().data().get("name"));
		}

	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	@EntityScan(basePackageClasses = JpaDeliveryTests.class)
	static class App {

		private static final String MEMBER = "CREATE TABLE member (id uuid PRIMARY KEY DEFAULT gen_random_uuid(),"
				+ " name text NOT NULL, email text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())";

		@Bean
		@Primary
		DataSource dataSource(Environment environment) {
			DataSource dataSource = DataSourceBuilder.create()
				.url(environment.getRequiredProperty("test.audited-url"))
				.build();
			new JdbcTemplate(dataSource).execute(MEMBER);
			return dataSource;
		}

		@Bean
		DataSource otherDataSource(Environment environment) {
			DataSource dataSource = DataSourceBuilder.create()
				.url(environment.getRequiredProperty("test.other-url"))
				.build();
			new JdbcTemplate(dataSource).execute(MEMBER);
			return dataSource;
		}

		@Bean
		@Primary
		PlatformTransactionManager transactionManager(DataSource dataSource,
				ObjectProvider<EntityManagerFactory> entityManagerFactory, Environment environment) {
			return environment.getRequiredProperty("test.audited-manager").equals("jpa")
					? new JpaTransactionManager(entityManagerFactory.getObject())
					: new DataSourceTransactionManager(dataSource);
		}

		@Bean
		DataSourceTransactionManager otherTransactionManager(@Qualifier("otherDataSource") DataSource dataSource) {
			return new DataSourceTransactionManager(dataSource);
		}

		@Bean
		Names names() {
			return new Names();
		}

	}

}
