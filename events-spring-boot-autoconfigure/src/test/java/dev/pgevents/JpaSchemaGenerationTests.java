package dev.pgevents;

import java.time.Duration;
import java.util.UUID;

import jakarta.persistence.Entity;
import jakarta.persistence.EntityManager;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.InitializingBean;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.persistence.autoconfigure.EntityScan;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * With Hibernate's schema generation the audited tables do not exist until the entity
 * manager factory has started: the triggers are installed after it, and still before a
 * bean can write; what a bean writes while the context starts is delivered once it has
 * started.
 */
@WithTestDatabase
@SpringBootTest(classes = JpaSchemaGenerationTests.App.class,
		properties = { "spring.jpa.hibernate.ddl-auto=create-drop", "spring.jpa.open-in-view=false" })
class JpaSchemaGenerationTests {

	@Autowired
	EntityManager entityManager;

	@Autowired
	PlatformTransactionManager transactionManager;

	@Autowired
	Subscribers subscribers;

	@Autowired
	JdbcTemplate jdbc;

	@Test
	void aWriteWhileTheContextStartsIsCapturedAndDeliveredOnceItHasStarted() {
		assertThat(this.jdbc.queryForList("SELECT data->>'name' FROM keel_audit WHERE table_name = 'gadget'",
				String.class))
			.contains("written at startup");
		await().atMost(Duration.ofSeconds(60))
			.untilAsserted(() -> assertThat(this.subscribers.of("created"))
				.extracting((event) -> event.target().data().get("name"))
				.contains("written at startup"));
	}

	@Test
	void anEntityOfAGeneratedTableIsDelivered() {
		UUID id = UUID.randomUUID();
		TransactionTemplate transactions = new TransactionTemplate(this.transactionManager);
		transactions.executeWithoutResult((status) -> this.entityManager.persist(new Gadget(id, "Sprocket")));
		transactions.executeWithoutResult((status) -> this.entityManager.find(Gadget.class, id).name = "Cog");

		assertThat(this.subscribers.of("updated")).singleElement().satisfies((event) -> {
			assertThat(event.target().id()).isEqualTo(id.toString());
			assertThat(event.target().data()).containsEntry("name", "Cog");
			assertThat(event.target().previousData()).containsEntry("name", "Sprocket");
		});
	}

	@Entity
	@Table(name = "gadget")
	static class Gadget {

		@Id
		UUID id;

		String name;

		protected Gadget() {
		}

		Gadget(UUID id, String name) {
			this.id = id;
			this.name = name;
		}

	}

	static class Subscribers extends RecordingSubscriber {

		@EventSubscriber("gadget.created")
		void created(Event event) {
			record("created", event);
		}

		@EventSubscriber("gadget.updated")
		void updated(Event event) {
			record("updated", event);
		}

	}

	/**
	 * Writes while the context starts, as soon as it can have a transaction manager.
	 */
	static class StartupWriter implements InitializingBean {

		private final EntityManager entityManager;

		private final PlatformTransactionManager transactionManager;

		StartupWriter(EntityManager entityManager, PlatformTransactionManager transactionManager) {
			this.entityManager = entityManager;
			this.transactionManager = transactionManager;
		}

		@Override
		public void afterPropertiesSet() {
			new TransactionTemplate(this.transactionManager).executeWithoutResult(
					(status) -> this.entityManager.persist(new Gadget(UUID.randomUUID(), "written at startup")));
		}

	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	@EntityScan(basePackageClasses = JpaSchemaGenerationTests.class)
	static class App {

		@Bean
		Subscribers subscribers() {
			return new Subscribers();
		}

		@Bean
		StartupWriter startupWriter(EntityManager entityManager, PlatformTransactionManager transactionManager) {
			return new StartupWriter(entityManager, transactionManager);
		}

	}

}
