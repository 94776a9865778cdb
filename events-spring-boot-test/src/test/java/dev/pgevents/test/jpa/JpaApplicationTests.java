package dev.pgevents.test.jpa;

import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.pgevents.Event;
import dev.pgevents.EventSubscriber;
import dev.pgevents.WithTestDatabase;
import dev.pgevents.test.EventScenario;
import dev.pgevents.test.RecordedEvents;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.orm.jpa.JpaTransactionManager;
import org.springframework.test.context.transaction.AfterTransaction;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.annotation.Transactional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * The test kit in a Spring Data JPA application (Flyway, repositories, async dispatch):
 * it never commits, or reads inside, a {@code @Transactional} test's transaction, which
 * Spring rolls back at the test's end as it would without the kit; a test that looks for
 * the events of its uncommitted writes fails with the kit's hint, as in a JDBC
 * application; and {@link RecordedEvents#commitTestTransaction()} commits through the JPA
 * transaction manager.
 */
@WithTestDatabase
@SpringBootTest(classes = JpaApplicationTests.App.class,
		properties = { "spring.autoconfigure.exclude=", "spring.flyway.enabled=true",
				"spring.flyway.locations=classpath:db/jpa-kit", "spring.jpa.open-in-view=false",
				"events.dispatch.mode=async" })
class JpaApplicationTests {

	private static final String HINT = "Commit them with recordedEvents.commitTestTransaction().";

	@Autowired
	RecordedEvents recordedEvents;

	@Autowired
	EventScenario scenario;

	@Autowired
	Orders orders;

	@Autowired
	JdbcClient jdbcClient;

	@Autowired
	JdbcTemplate jdbc;

	@Autowired
	Taken taken;

	/** The item a test wrote, and whether it must be in the database after the test. */
	@Nullable String item;

	boolean committed;

	@BeforeEach
	void forget() {
		this.item = null;
		this.committed = false;
	}

	@Test
	void theApplicationRunsJpasTransactionManager(@Autowired PlatformTransactionManager transactionManager) {
		assertThat(transactionManager).isInstanceOf(JpaTransactionManager.class);
	}

	@Test
	@Transactional
	void anEntitySavedInATestTransactionIsNoEventAndIsRolledBack() {
		this.item = "entity-" + UUID.randomUUID();
		this.orders.save(new Order(this.item));

		assertThat(this.recordedEvents.all()).isEmpty();
		assertThatExceptionOfType(AssertionError.class)
			.isThrownBy(() -> assertThat(this.recordedEvents).contains("orders.created"))
			.withMessageEndingWith(HINT);
	}

	@Test
	@Transactional
	void aRowWrittenWithJdbcClientInATestTransactionIsNoEventAndIsRolledBack() {
		this.item = "jdbc-" + UUID.randomUUID();
		this.jdbcClient.sql("INSERT INTO orders (item) VALUES (?)").param(this.item).update();

		assertThatExceptionOfType(AssertionError.class)
			.isThrownBy(() -> assertThat(this.recordedEvents).contains("orders.created"))
			.withMessageEndingWith(HINT);
		assertThat(this.recordedEvents.all()).isEmpty();
	}

	@Test
	@Transactional
	void aScenarioInATestTransactionWaitsInVainWithTheHint() {
		this.item = "scenario-" + UUID.randomUUID();

		assertThatExceptionOfType(AssertionError.class)
			.isThrownBy(() -> this.scenario.waitAtMost(Duration.ofMillis(500))
				.stimulate(() -> this.orders.save(new Order(this.item)))
				.andWaitForDelivery("taken")
				.toArrive())
			.withMessageEndingWith(HINT);
	}

	@Test
	@Transactional
	void commitTestTransactionCommitsThroughJpa() {
		this.item = "committed-" + UUID.randomUUID();
		this.orders.save(new Order(this.item));

		this.recordedEvents.commitTestTransaction();
		this.committed = true;

		assertThat(this.recordedEvents).contains("orders.created").singleElement().hasData("item", this.item);
		this.recordedEvents.awaitQuiet(Duration.ofSeconds(10));
		assertThat(this.taken.items).contains(this.item);
	}

	@Test
	void anEntitySavedOutsideATestTransactionIsDelivered() {
		this.item = "outside-" + UUID.randomUUID();
		this.committed = true;

		this.scenario.stimulate(() -> this.orders.save(new Order(this.item)))
			.andWaitForDelivery("taken")
			.toArriveAndVerify((event) -> assertThat(event.target().data()).containsEntry("item", this.item));
	}

	/**
	 * After the test transaction has ended: what the test wrote is in the database only
	 * if it committed it, and delivered only then.
	 */
	@AfterTransaction
	void theDatabaseHoldsWhatTheTestCommitted() {
		String written = this.item;
		if (written == null) {
			return;
		}
		assertThat(this.jdbc.queryForObject("SELECT count(*) FROM orders WHERE item = ?", Integer.class, written))
			.isEqualTo(this.committed ? 1 : 0);
		if (!this.committed) {
			this.recordedEvents.awaitQuiet(Duration.ofSeconds(10));
			assertThat(this.taken.items).doesNotContain(written);
		}
	}

	static class Taken {

		final List<String> items = new CopyOnWriteArrayList<>();

		@EventSubscriber("orders.created")
		void taken(Event event) {
			this.items.add((String) event.target().data().get("item"));
		}

	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class App {

		@Bean
		Taken taken() {
			return new Taken();
		}

	}

}
