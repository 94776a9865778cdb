package dev.pgevents;

import java.io.StringReader;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.time.Duration;
import java.util.List;

import javax.sql.DataSource;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceProperties;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Every way PostgreSQL writes rows is captured: upserts, {@code MERGE}, {@code COPY},
 * {@code TRUNCATE}, and the transactions of a savepoint rolled back or an inner
 * {@code REQUIRES_NEW} transaction deliver exactly what committed.
 */
@WithTestDatabase
@Import(InTransaction.class)
@SpringBootTest(classes = WriteKindsTests.App.class,
		properties = { TestApplications.SQL_INIT, "spring.sql.init.schema-locations=classpath:stock-schema.sql" })
class WriteKindsTests {

	@Autowired
	JdbcTemplate jdbc;

	@Autowired
	TransactionTemplate transactions;

	@Autowired
	InTransaction db;

	@Autowired
	PlatformTransactionManager transactionManager;

	@Autowired
	DataSource dataSource;

	@Autowired
	DataSourceProperties dataSourceProperties;

	@Autowired
	Subscribers subscribers;

	@BeforeEach
	void clear() {
		this.transactions.executeWithoutResult((status) -> this.jdbc.update("DELETE FROM stock"));
		this.subscribers.clear();
	}

	@Test
	void anUpsertIsACreatedOrAnUpdatedEventPerRow() {
		this.db.write("INSERT INTO stock VALUES ('a', 1)");
		this.subscribers.clear();

		this.db.write(
				"INSERT INTO stock VALUES ('a', 5), ('b', 1) ON CONFLICT (sku) DO UPDATE SET qty = stock.qty + excluded.qty");

		assertThat(this.subscribers.of("stock")).extracting(WriteKindsTests::describe)
			.containsExactlyInAnyOrder("stock.updated a 1->6", "stock.created b 1");
	}

	@Test
	void aMergeIsAnEventPerRowAndAction() {
		this.db.write("INSERT INTO stock VALUES ('a', 1), ('b', 1)");
		this.subscribers.clear();

		this.db.write("MERGE INTO stock s USING (VALUES ('a', 0), ('b', 2), ('c', 3)) v (sku, qty) ON s.sku = v.sku "
				+ "WHEN MATCHED AND v.qty = 0 THEN DELETE WHEN MATCHED THEN UPDATE SET qty = v.qty "
				+ "WHEN NOT MATCHED THEN INSERT VALUES (v.sku, v.qty)");

		assertThat(this.subscribers.of("stock")).extracting(WriteKindsTests::describe)
			.containsExactlyInAnyOrder("stock.deleted a 1", "stock.updated b 1->2", "stock.created c 3");
	}

	@Test
	void copyIsCapturedAndDeliveredByTheRelay() throws Exception {
		try (Connection connection = DriverManager.getConnection(this.dataSourceProperties.determineUrl(),
				this.dataSourceProperties.determineUsername(), this.dataSourceProperties.determinePassword())) {
			long copied = connection.unwrap(PGConnection.class)
				.getCopyAPI()
				.copyIn("COPY stock (sku, qty) FROM STDIN WITH (FORMAT csv)", new StringReader("x,1\ny,2\nz,3\n"));
			assertThat(copied).isEqualTo(3);
		}

		await().atMost(Duration.ofSeconds(30))
			.untilAsserted(() -> assertThat(this.subscribers.of("stock")).extracting(WriteKindsTests::describe)
				.containsExactly("stock.created x 1", "stock.created y 2", "stock.created z 3"));
	}

	@Test
	void writesUndoneByARollbackToASavepointAreNotDelivered() {
		this.transactions.executeWithoutResult((status) -> {
			this.jdbc.update("INSERT INTO stock VALUES ('kept', 1)");
			Connection connection = DataSourceUtils.getConnection(this.dataSource);
			try {
				Savepoint savepoint = connection.setSavepoint();
				this.jdbc.update("INSERT INTO stock VALUES ('undone', 1)");
				this.jdbc.update("UPDATE stock SET qty = 2 WHERE sku = 'kept'");
				connection.rollback(savepoint);
			}
			catch (SQLException ex) {
				throw new IllegalStateException(ex);
			}
			this.jdbc.update("INSERT INTO stock VALUES ('after', 1)");
		});

		assertThat(this.subscribers.of("stock")).extracting(WriteKindsTests::describe)
			.containsExactly("stock.created kept 1", "stock.created after 1");
	}

	@Test
	void anInnerRequiresNewTransactionIsDeliveredWhenItCommitsWhateverTheOuterDoes() {
		TransactionTemplate inner = new TransactionTemplate(this.transactionManager);
		inner.setPropagationBehavior(TransactionDefinition.PROPAGATION_REQUIRES_NEW);
		List<String> deliveredWhenInnerReturned = new java.util.ArrayList<>();

		this.transactions.executeWithoutResult((status) -> {
			this.jdbc.update("INSERT INTO stock VALUES ('outer', 1)");
			inner.executeWithoutResult((innerStatus) -> this.jdbc.update("INSERT INTO stock VALUES ('inner', 1)"));
			this.subscribers.of("stock")
				.stream()
				.map(WriteKindsTests::describe)
				.forEach(deliveredWhenInnerReturned::add);
			status.setRollbackOnly();
		});

		assertThat(deliveredWhenInnerReturned).containsExactly("stock.created inner 1");
		assertThat(this.subscribers.of("stock")).extracting(WriteKindsTests::describe)
			.containsExactly("stock.created inner 1");
	}

	@Test
	void aTruncateIsOneTruncatedEventForItsSubscribersOnly() {
		this.db.write("INSERT INTO stock VALUES ('a', 1), ('b', 2)");
		this.subscribers.clear();

		this.db.write("TRUNCATE stock");

		assertThat(this.subscribers.of("truncated")).singleElement().satisfies((event) -> {
			assertThat(event.eventName()).isEqualTo("stock.truncated");
			assertThat(event.target().id()).isEmpty();
			assertThat(event.target().data()).isEmpty();
		});
		// 'stock.*' is the three row events
		assertThat(this.subscribers.of("stock")).isEmpty();
	}

	private static String describe(Event event) {
		return RecordingSubscriber.describe(event, "qty");
	}

	static class Subscribers extends RecordingSubscriber {

		@EventSubscriber("stock.*")
		void stock(Event event) {
			record("stock", event);
		}

		@EventSubscriber("*.truncated")
		void truncated(Event event) {
			record("truncated", event);
		}

	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class App {

		@Bean
		Subscribers subscribers() {
			return new Subscribers();
		}

	}

}
