package dev.pgevents;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.IntStream;

import javax.sql.DataSource;

import org.junit.jupiter.api.Test;

import dev.pgevents.internal.capture.CommitNotices;

import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.jdbc.datasource.DriverManagerDataSource;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionSystemException;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.awaitility.Awaitility.await;

/**
 * A transaction's rows come back with its commit (notice-function.sql), so the dispatch
 * after commit does not look them up: only when they are all there, its own, and few; the
 * application's own warnings stay where they were.
 */
class CommitNoticeTests {

	private final String url = TestDatabase.create();

	private final JdbcTemplate admin = new JdbcTemplate(new DriverManagerDataSource(this.url));

	private final ApplicationContextRunner runner = TestApplications.runner(this.url)
		.withPropertyValues("events.relay.poll-interval=200ms")
		.withBean(Received.class);

	CommitNoticeTests() {
		this.admin.execute("CREATE TABLE stock (id int PRIMARY KEY, version int NOT NULL)");
	}

	@Test
	void aTransactionsRowsAreDeliveredFromItsCommitWithoutTheLookup() {
		this.runner.run((context) -> {
			assertThat(context).hasNotFailed();
			withoutLookup();
			Received received = context.getBean(Received.class);
			String writer = Thread.currentThread().getName();
			write(context, "INSERT INTO stock VALUES (1, 1), (2, 1)", "UPDATE stock SET version = 2 WHERE id = 1");

			// delivered in the committing thread, before the transaction returned
			assertThat(received.events).extracting(Received.Call::eventName)
				.containsExactly("stock.created", "stock.created", "stock.updated");
			assertThat(received.events).extracting(Received.Call::thread).containsOnly(writer);
			Received.Call update = received.events.stream().toList().get(2);
			assertThat(update.event().target().data()).containsEntry("id", 1).containsEntry("version", 2);
			assertThat(update.event().target().previousData()).containsEntry("version", 1);
		});
	}

	@Test
	void rowsThatARollbackToASavepointUndidAreNeitherSentNorDelivered() {
		this.runner.run((context) -> {
			assertThat(context).hasNotFailed();
			withoutLookup();
			Received received = context.getBean(Received.class);
			transactions(context).executeWithoutResult((status) -> {
				JdbcTemplate jdbc = new JdbcTemplate(context.getBean(DataSource.class));
				jdbc.update("INSERT INTO stock VALUES (1, 1)");
				Object savepoint = status.createSavepoint();
				jdbc.update("INSERT INTO stock VALUES (2, 1)");
				status.rollbackToSavepoint(savepoint);
				jdbc.update("INSERT INTO stock VALUES (3, 1)");
			});

			assertThat(received.events).extracting((call) -> call.event().target().id()).containsExactly("1", "3");
		});
	}

	@Test
	void aTransactionOfManyRowsIsLookedUpAndDeliveredOnce() {
		this.runner.run((context) -> {
			assertThat(context).hasNotFailed();
			Received received = context.getBean(Received.class);
			// 150 rows in one statement, then 60 and 60 in two: both past the count
			write(context, "INSERT INTO stock SELECT i, 1 FROM generate_series(1, 150) i");
			write(context, "INSERT INTO stock SELECT i, 1 FROM generate_series(151, 210) i",
					"INSERT INTO stock SELECT i, 1 FROM generate_series(211, 270) i");

			assertThat(received.events).hasSize(270);
			assertThat(received.events).extracting((call) -> call.event().target().id())
				.containsExactlyElementsOf(IntStream.rangeClosed(1, 270).mapToObj(String::valueOf).toList());
		});
	}

	@Test
	void rowsSentBeforeTheCommitAreLookedUpWithTheRest() {
		this.runner.run((context) -> {
			assertThat(context).hasNotFailed();
			Received received = context.getBean(Received.class);
			// sends the first row now, and only the second at commit
			write(context, "INSERT INTO stock VALUES (1, 1)", "SET CONSTRAINTS ALL IMMEDIATE",
					"SET CONSTRAINTS ALL DEFERRED", "INSERT INTO stock VALUES (2, 1)");

			assertThat(received.events).extracting((call) -> call.event().target().id()).containsExactly("1", "2");
		});
	}

	@Test
	void aNoticeOfAnotherTransactionIsNotTakenForARow() {
		atCommit("stock", "forge",
				"""
						RAISE NOTICE 'pgevents:["%", "1", 999, "stock", "created", {"id": 999, "version": 1}, null, null, null, null,
							"2026-01-01T00:00:00+00:00", null, 0]', gen_random_uuid();""");
		this.runner.run((context) -> {
			assertThat(context).hasNotFailed();
			Received received = context.getBean(Received.class);
			write(context, "INSERT INTO stock VALUES (1, 1)");

			assertThat(received.events).extracting((call) -> call.event().target().id()).containsExactly("1");
		});
	}

	@Test
	void theApplicationsOwnWarningsOfTheCommitStayOnTheConnection() {
		atCommit("stock", "warn", "RAISE NOTICE 'checked at commit';");
		this.runner.run((context) -> {
			assertThat(context).hasNotFailed();
			Received received = context.getBean(Received.class);
			DataSource dataSource = context.getBean(DataSource.class);
			List<String> warnings = new ArrayList<>();
			transactions(context).executeWithoutResult((status) -> {
				new JdbcTemplate(dataSource).update("INSERT INTO stock VALUES (1, 1)");
				TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
					@Override
					public void afterCommit() {
						warnings.addAll(warnings(DataSourceUtils.getConnection(dataSource)));
					}
				});
			});

			assertThat(warnings).contains("checked at commit");
			assertThat(received.events).extracting(Received.Call::eventName).containsExactly("stock.created");
		});
	}

	@Test
	void aCommitThatFailsLeavesNoRowAmongTheConnectionsWarnings() {
		this.admin.execute("CREATE TABLE checked (id int)");
		// queued after the audit row's trigger: it fails the commit once that one has
		// sent its row
		atCommit("checked", "refuse", "RAISE EXCEPTION 'refused at commit';");
		this.runner.run((context) -> {
			assertThat(context).hasNotFailed();
			Received received = context.getBean(Received.class);
			DataSource dataSource = context.getBean(DataSource.class);
			List<String> warnings = new ArrayList<>();
			assertThatExceptionOfType(TransactionSystemException.class)
				.isThrownBy(() -> transactions(context).executeWithoutResult((status) -> {
					JdbcTemplate jdbc = new JdbcTemplate(dataSource);
					jdbc.update("INSERT INTO stock VALUES (1, 1)");
					jdbc.update("INSERT INTO checked VALUES (1)");
					TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
						@Override
						public void afterCompletion(int status) {
							warnings.addAll(warnings(DataSourceUtils.getConnection(dataSource)));
						}
					});
				}))
				.havingRootCause()
				.withMessageContaining("refused at commit");

			assertThat(warnings).noneMatch((warning) -> warning.startsWith(CommitNotices.PREFIX));
			assertThat(received.events).isEmpty();
		});
	}

	@Test
	void theCommitSendsRowsOnlyOfTransactionsWithAScopeAndNonePastTheCount() throws Exception {
		this.runner.run((context) -> assertThat(context).hasNotFailed());
		try (Connection connection = this.admin.getDataSource().getConnection();
				Statement statement = connection.createStatement()) {
			connection.setAutoCommit(false);
			statement.execute("INSERT INTO stock VALUES (1, 1)");
			connection.commit();
			assertThat((Object) connection.getWarnings()).as("no scope").isNull();

			statement.execute("SELECT set_config('pgevents.scope', '" + UUID.randomUUID() + "', true)");
			statement.execute("INSERT INTO stock VALUES (2, 1), (3, 1)");
			statement.execute("UPDATE stock SET version = version + 1 WHERE id IN (1, 2)");
			// writes no row
			statement.execute("UPDATE stock SET version = version WHERE id = 3");
			connection.commit();
			assertThat(warnings(connection)).hasSize(4)
				.allSatisfy((notice) -> assertThat(notice).contains("\", \"4\", "));
			connection.clearWarnings();

			statement.execute("SELECT set_config('pgevents.scope', '" + UUID.randomUUID() + "', true)");
			statement.execute("INSERT INTO stock SELECT i, 1 FROM generate_series(10, 109) i");
			statement.execute("INSERT INTO stock VALUES (110, 1)");
			connection.commit();
			assertThat((Object) connection.getWarnings()).as("past 100 rows").isNull();

			// as the context sets it for a connection that would not take them
			statement.execute("SELECT set_config('pgevents.scope', '" + UUID.randomUUID()
					+ "', true), set_config('pgevents.noticed', '-1', true)");
			statement.execute("INSERT INTO stock VALUES (111, 1)");
			connection.commit();
			assertThat((Object) connection.getWarnings()).as("none asked for").isNull();
		}
		assertThat(this.admin.queryForObject(
				"SELECT count(*) FROM pg_trigger WHERE tgrelid = 'keel_audit'::regclass AND tgname = 'pgevents_notice'",
				Integer.class))
			.isOne();
	}

	@Test
	void anAuditSchemaOfAnEarlierVersionGainsTheTriggerAndItsUndeliveredRowsAreDelivered() {
		this.runner.run((context) -> assertThat(context).hasNotFailed());
		// what the version before left: no trigger, a capture function that counts
		// nothing,
		// rows not yet delivered
		this.admin.execute("DROP TRIGGER pgevents_notice ON keel_audit");
		this.admin.execute("DROP FUNCTION keel_audit_notice()");
		this.admin.execute("CREATE OR REPLACE FUNCTION keel_audit_capture() RETURNS trigger LANGUAGE plpgsql "
				+ "SECURITY DEFINER AS $$ BEGIN RETURN NULL; END $$");
		this.admin.update("INSERT INTO keel_audit (table_name, op, data) VALUES ('stock', 'created', "
				+ "'{\"id\": 1, \"version\": 1}'), ('stock', 'created', '{\"id\": 2, \"version\": 1}')");

		this.runner.run((context) -> {
			assertThat(context).hasNotFailed();
			Received received = context.getBean(Received.class);
			await().atMost(Duration.ofSeconds(30)).until(() -> received.events.size() == 2);
			withoutLookup();
			write(context, "INSERT INTO stock VALUES (3, 1)");
			assertThat(received.events).extracting((call) -> call.event().target().id()).containsExactly("1", "2", "3");
		});
	}

	/**
	 * Give a table a trigger that runs {@code statement} at commit, once per inserted
	 * row.
	 */
	private void atCommit(String table, String name, String statement) {
		this.admin.execute("CREATE FUNCTION " + name + "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN " + statement
				+ " RETURN NULL; END $$");
		this.admin.execute("CREATE CONSTRAINT TRIGGER " + name + " AFTER INSERT ON " + table
				+ " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION " + name + "()");
	}

	/**
	 * Drop the function the dispatch after commit looks rows up with: a transaction whose
	 * rows did not come back with its commit is then left to the relay, after it
	 * returned.
	 */
	private void withoutLookup() {
		this.admin.execute("DROP FUNCTION keel_audit_pending(uuid, bigint, integer)");
	}

	private static List<String> warnings(Connection connection) {
		List<String> messages = new ArrayList<>();
		try {
			for (SQLWarning warning = connection.getWarnings(); warning != null; warning = warning.getNextWarning()) {
				messages.add(warning.getMessage());
			}
		}
		catch (SQLException ex) {
			throw new IllegalStateException(ex);
		}
		return messages;
	}

	private static TransactionTemplate transactions(AssertableApplicationContext context) {
		return new TransactionTemplate(context.getBean(PlatformTransactionManager.class));
	}

	private static void write(AssertableApplicationContext context, String... statements) {
		JdbcTemplate jdbc = new JdbcTemplate(context.getBean(DataSource.class));
		transactions(context).executeWithoutResult((status) -> {
			for (String statement : statements) {
				jdbc.execute(statement);
			}
		});
	}

	static class Received {

		final Queue<Call> events = new ConcurrentLinkedQueue<>();

		@EventSubscriber({ "stock.created", "stock.updated" })
		void take(Event event) {
			this.events.add(new Call(event.eventName(), Thread.currentThread().getName(), event));
		}

		record Call(String eventName, String thread, Event event) {

		}

	}

}
