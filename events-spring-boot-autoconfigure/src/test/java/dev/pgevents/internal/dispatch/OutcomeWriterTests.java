package dev.pgevents.internal.dispatch;

import java.time.Duration;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dev.pgevents.TestDatabase;
import dev.pgevents.internal.capture.AuditSchema;
import dev.pgevents.internal.capture.OwnTransactions;

import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.jdbc.datasource.DriverManagerDataSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The outcome writer's warnings can happen on every transaction: each kind is logged once
 * per interval, with a count, however many rows it touches.
 */
@ExtendWith(OutputCaptureExtension.class)
class OutcomeWriterTests {

	private static final Duration LEASE = Duration.ofSeconds(30);

	// a database without the starter's tables: every batch fails
	private final DriverManagerDataSource database = new DriverManagerDataSource(TestDatabase.create());

	private final AuditSchema schema = AuditSchema.of("public.keel_audit", "public");

	private final InstanceHold instance = new InstanceHold(this.database, this.schema, true, LEASE);

	private final OwnTransactions transactions = new OwnTransactions(this.database);

	private final OutcomeWriter writer = new OutcomeWriter(new DeliveryLedger(this.transactions, this.schema,
			List.of("audit"), Duration.ofMinutes(1), "x.row_id", LEASE), this.instance,
			new Supervisor(new EngineThreads(false)));

	@Test
	void aFullQueueIsLoggedOncePerIntervalAndEachRowIsGivenUp(CapturedOutput output) {
		int refused = 500;
		for (int i = 0; i < 100_000 + refused; i++) { // the writer is not started
			this.writer.record(this.instance.newScope(), new DeliveryLedger.Outcome(i, List.of()));
		}
		assertThat(this.instance.givenUp()).hasSize(refused);
		assertThat(occurrences(output.getOut(), "The queue of delivery outcomes is full")).isOne();
	}

	@Test
	void failedBatchesAreLoggedOncePerIntervalAndTheirScopesGivenUp(CapturedOutput output) {
		this.writer.start();
		try {
			for (int i = 0; i < 5; i++) {
				UUID scope = this.instance.newScope();
				this.writer.record(scope, new DeliveryLedger.Outcome(i, List.of()));
				await().atMost(Duration.ofSeconds(10)).until(() -> this.instance.givenUp().contains(scope));
			}
		}
		finally {
			this.writer.stop(Duration.ofSeconds(5));
		}
		assertThat(occurrences(output.getOut(), "deliveries; those events will be delivered again")).isOne();
	}

	private static int occurrences(String text, String part) {
		return text.split(java.util.regex.Pattern.quote(part), -1).length - 1;
	}

}
