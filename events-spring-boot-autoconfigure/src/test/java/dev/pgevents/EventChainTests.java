package dev.pgevents;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Chains of events that subscribers cause: each change a subscriber writes records the
 * event it was called with ({@link Event#causedBy()}) and the depth of the chain, so an
 * event loop (a subscriber of {@code counter.updated} that updates the counter) stops at
 * {@code events.dispatch.max-chain-depth}, with one dead letter that names the chain and
 * one warning, whether the subscriber writes outside a transaction or in one of its own
 * (whose dispatch after commit nests in its call); and a legitimate chain is delivered
 * whole. Before, such a loop ran for ever, silently, and again after every restart.
 */
@WithTestDatabase
@ExtendWith(OutputCaptureExtension.class)
@SpringBootTest(classes = EventChainTests.App.class,
		properties = { TestApplications.SQL_INIT, "spring.sql.init.schema-locations=classpath:chain-schema.sql",
				"events.relay.poll-interval=200ms", "events.retry.max-attempts=1" })
class EventChainTests {

	@Autowired
	JdbcTemplate jdbc;

	@Autowired
	TransactionTemplate transactions;

	@Autowired
	Subscribers subscribers;

	@Test
	void aLoopOutsideTransactionsStopsAtTheMaximumDepthWithOneDeadLetterAndOneWarning(CapturedOutput output) {
		aLoopStops(1, "plainLoop", output);
	}

	@Test
	void aLoopInTheSubscribersOwnTransactionsStopsAtTheMaximumDepth(CapturedOutput output) {
		aLoopStops(2, "transactionalLoop", output);
	}

	private void aLoopStops(int counter, String subscriber, CapturedOutput output) {
		this.jdbc.update("INSERT INTO counter (id, n) VALUES (?, 0)", counter);
		this.transactions
			.executeWithoutResult((status) -> this.jdbc.update("UPDATE counter SET n = n + 1 WHERE id = ?", counter));

		await().atMost(Duration.ofSeconds(60))
			.until(() -> !this.jdbc
				.queryForList("SELECT last_error FROM keel_audit_delivery WHERE subscriber = ? AND status = 'dead'",
						String.class, subscriber)
				.isEmpty());
		String error = this.jdbc.queryForObject(
				"SELECT last_error FROM keel_audit_delivery WHERE subscriber = ? AND status = 'dead'", String.class,
				subscriber);
		assertThat(error).startsWith("event chain deeper than 16: … → counter.updated → counter.updated");
		// the application's update, then one by each of 16 calls; the 17th was stopped
		assertThat(this.jdbc.queryForObject("SELECT n FROM counter WHERE id = ?", Integer.class, counter))
			.isEqualTo(17);
		assertThat(this.subscribers.calls.get(subscriber)).isEqualTo(16);
		assertThat(this.jdbc.queryForObject(
				"SELECT max(chain_depth) FROM keel_audit WHERE table_name = 'counter' AND data ->> 'id' = ?",
				Integer.class, Integer.toString(counter)))
			.isEqualTo(16);
		assertThat(output.getOut().split("Subscriber '" + subscriber + "' is in an event loop", -1)).hasSize(2);
	}

	@Test
	void aChainOfThreeSubscribersIsDeliveredWholeEachEventNamingItsCause() {
		this.transactions.executeWithoutResult((status) -> this.jdbc.update("INSERT INTO purchase (id) VALUES (1)"));

		await().atMost(Duration.ofSeconds(30)).until(() -> this.subscribers.ledgerEntry.get(1L) != null);
		Event ledgerEntry = this.subscribers.ledgerEntry.get(1L);
		Event invoice = this.subscribers.invoice.get(1L);
		Event purchase = this.subscribers.purchase.get(1L);
		assertThat(purchase.causedBy()).isNull();
		assertThat(invoice.causedBy()).isEqualTo(purchase.id());
		assertThat(ledgerEntry.causedBy()).isEqualTo(invoice.id());
	}

	static class Subscribers {

		final Map<String, Integer> calls = new ConcurrentHashMap<>();

		final Map<Long, Event> purchase = new ConcurrentHashMap<>();

		final Map<Long, Event> invoice = new ConcurrentHashMap<>();

		final Map<Long, Event> ledgerEntry = new ConcurrentHashMap<>();

		private final JdbcTemplate jdbc;

		private final TransactionTemplate transactions;

		Subscribers(JdbcTemplate jdbc, TransactionTemplate transactions) {
			this.jdbc = jdbc;
			this.transactions = transactions;
		}

		@EventSubscriber(value = "counter.updated", condition = "target.data['id'] == 1")
		void plainLoop(Event event) {
			this.calls.merge("plainLoop", 1, Integer::sum);
			this.jdbc.update("UPDATE counter SET n = n + 1 WHERE id = 1");
		}

		@EventSubscriber(value = "counter.updated", condition = "target.data['id'] == 2")
		void transactionalLoop(Event event) {
			this.calls.merge("transactionalLoop", 1, Integer::sum);
			this.transactions
				.executeWithoutResult((status) -> this.jdbc.update("UPDATE counter SET n = n + 1 WHERE id = 2"));
		}

		@EventSubscriber("purchase.created")
		void invoicePurchase(Event event) {
			long id = ((Number) event.target().data().get("id")).longValue();
			this.purchase.put(id, event);
			this.transactions.executeWithoutResult(
					(status) -> this.jdbc.update("INSERT INTO invoice (id, purchase_id) VALUES (?, ?)", id, id));
		}

		@EventSubscriber("invoice.created")
		void bookInvoice(Event event) {
			long id = ((Number) event.target().data().get("id")).longValue();
			this.invoice.put(id, event);
			this.jdbc.update("INSERT INTO ledger_entry (id, invoice_id) VALUES (?, ?)", id, id);
		}

		@EventSubscriber("ledger_entry.created")
		void recordEntry(Event event) {
			this.ledgerEntry.put(((Number) event.target().data().get("id")).longValue(), event);
		}

	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class App {

		@Bean
		Subscribers subscribers(JdbcTemplate jdbc, TransactionTemplate transactions) {
			return new Subscribers(jdbc, transactions);
		}

	}

}
