package dev.pgevents

import java.time.Duration
import java.util.UUID
import java.util.concurrent.CopyOnWriteArrayList
import kotlinx.coroutines.delay
import org.assertj.core.api.Assertions.assertThat
import org.awaitility.Awaitility.await
import org.junit.jupiter.api.Test
import org.springframework.beans.factory.annotation.Autowired
import org.springframework.boot.SpringBootConfiguration
import org.springframework.boot.autoconfigure.EnableAutoConfiguration
import org.springframework.boot.test.context.SpringBootTest
import org.springframework.context.annotation.Bean
import org.springframework.jdbc.core.JdbcTemplate
import org.springframework.transaction.support.TransactionTemplate

/**
 * A Kotlin application's subscribers: suspend functions, called and waited for as plain
 * methods are, retried when they throw, and data classes bound from the row.
 */
@WithTestDatabase
@SpringBootTest(
	classes = [KotlinSubscriberTests.App::class],
	properties = [TestApplications.SQL_INIT, TestApplications.MEMBER_SCHEMA, "events.retry.initial-delay=50ms"],
)
class KotlinSubscriberTests(
	@param:Autowired val jdbc: JdbcTemplate,
	@param:Autowired val transactions: TransactionTemplate,
	@param:Autowired val subscribers: Subscribers,
) {

	@Test
	fun `a suspend subscriber gets a data class of the row, and is retried when it throws`() {
		val id = UUID.randomUUID()
		transactions.executeWithoutResult {
			jdbc.update("INSERT INTO member (id, name, email) VALUES (?, 'Ada', 'ada@example.com')", id)
		}
		await().atMost(Duration.ofSeconds(20)).untilAsserted {
			assertThat(subscribers.welcomed).containsExactly(Member(id, "Ada", "ada@example.com"))
			assertThat(subscribers.attempts).hasSize(2)
		}
	}

	data class Member(val id: UUID, val name: String, val email: String)

	class Subscribers {

		val welcomed = CopyOnWriteArrayList<Member>()

		val attempts = CopyOnWriteArrayList<String>()

		@EventSubscriber("member.created")
		suspend fun welcome(member: Member, event: Event) {
			delay(10)
			attempts.add(event.id())
			check(attempts.size > 1) { "the mail server is busy" }
			welcomed.add(member)
		}

	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	open class App {

		@Bean
		open fun subscribers() = Subscribers()

	}

}
