package dev.pgevents;

import java.util.UUID;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EntityManager;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.pgevents.internal.capture.CommitNotices;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.persistence.autoconfigure.EntityScan;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Bean;
import org.springframework.orm.jpa.JpaTransactionManager;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Writes that Hibernate flushes inside the commit are captured and delivered like any
 * other.
 */
@WithTestDatabase
@ExtendWith(OutputCaptureExtension.class)
@SpringBootTest(classes = JpaDeliveryTests.App.class, properties = { TestApplications.SQL_INIT,
		TestApplications.MEMBER_SCHEMA, "spring.jpa.hibernate.ddl-auto=none", "spring.jpa.open-in-view=false" })
class JpaDeliveryTests {

	@Autowired
	EntityManager entityManager;

	@Autowired
	PlatformTransactionManager transactionManager;

	@Autowired
	RecordingSubscriber subscribers;

	@BeforeEach
	void clear() {
		this.subscribers.clear();
	}

	@Test
	void theTransactionManagerIsJpas() {
		assertThat(this.transactionManager).isInstanceOf(JpaTransactionManager.class);
	}

	@Test
	void anEntityFlushedAtCommitIsDelivered() {
		TransactionTemplate transactions = new TransactionTemplate(this.transactionManager);
		UUID id = UUID.randomUUID();
		transactions.executeWithoutResult(
				(status) -> this.entityManager.persist(new MemberEntity(id, "Jpa", "jpa@example.com")));

		assertThat(this.subscribers.of("created")).singleElement()
			.satisfies((event) -> assertThat(event.target().id()).isEqualTo(id.toString()));
	}

	@Test
	void theRowsTheCommitSendsBackAreNotLeftForHibernateToLogAsWarnings(CapturedOutput output) {
		TransactionTemplate transactions = new TransactionTemplate(this.transactionManager);
		transactions.executeWithoutResult((status) -> this.entityManager
			.persist(new MemberEntity(UUID.randomUUID(), "Quiet", "quiet@example.com")));

		assertThat(this.subscribers.of("created")).hasSize(1);
		assertThat(output).doesNotContain(CommitNotices.PREFIX).doesNotContain("quiet@example.com");
	}

	@Test
	void aDirtyEntityIsAnUpdateWithItsPreviousData() {
		TransactionTemplate transactions = new TransactionTemplate(this.transactionManager);
		UUID id = UUID.randomUUID();
		transactions.executeWithoutResult(
				(status) -> this.entityManager.persist(new MemberEntity(id, "Dirty", "old@example.com")));

		transactions.executeWithoutResult(
				(status) -> this.entityManager.find(MemberEntity.class, id).email = "new@example.com");

		assertThat(this.subscribers.of("updated")).singleElement().satisfies((event) -> {
			assertThat(event.target().data()).containsEntry("email", "new@example.com");
			assertThat(event.target().previousData()).containsEntry("email", "old@example.com");
		});
	}

	@Test
	void aRolledBackEntityIsNotDelivered() {
		TransactionTemplate transactions = new TransactionTemplate(this.transactionManager);
		transactions.executeWithoutResult((status) -> {
			this.entityManager.persist(new MemberEntity(UUID.randomUUID(), "Gone", "gone@example.com"));
			this.entityManager.flush();
			status.setRollbackOnly();
		});

		assertThat(this.subscribers.events).isEmpty();
	}

	@Entity
	@Table(name = "member")
	static class MemberEntity {

		@Id
		UUID id;

		String name;

		String email;

		@Column(name = "created_at", insertable = false, updatable = false)
		java.time.OffsetDateTime createdAt;

		protected MemberEntity() {
		}

		MemberEntity(UUID id, String name, String email) {
			this.id = id;
			this.name = name;
			this.email = email;
		}

	}

	static class Subscribers extends RecordingSubscriber {

		@EventSubscriber("member.created")
		void created(Event event) {
			record("created", event);
		}

		@EventSubscriber("member.updated")
		void updated(Event event) {
			record("updated", event);
		}

	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	@EntityScan(basePackageClasses = JpaDeliveryTests.class)
	static class App {

		@Bean
		Subscribers subscribers() {
			return new Subscribers();
		}

	}

}
