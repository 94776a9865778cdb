package dev.pgevents.internal.capture;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class AuditSchemaTests {

	private final AuditSchema schema = AuditSchema.of("audit.events_log", "app");

	@Test
	void companionObjectsAreNamedAfterTheAuditTableInItsSchema() {
		assertThat(this.schema.auditTable()).isEqualTo("\"audit\".\"events_log\"");
		assertThat(this.schema.deliveryTable()).isEqualTo("\"audit\".\"events_log_delivery\"");
		assertThat(this.schema.subscriberTable()).isEqualTo("\"audit\".\"events_log_subscriber\"");
		assertThat(this.schema.instanceTable()).isEqualTo("\"audit\".\"events_log_instance\"");
		assertThat(this.schema.pendingFunction()).isEqualTo("\"audit\".\"events_log_pending\"");
		assertThat(this.schema.channel()).isEqualTo("events_log");
	}

	@Test
	void everyScriptIsRenderedWithoutAPlaceholderLeft() {
		for (String script : List.of("audit-table", "audit-pending-index", "delivery-table", "delivery-due-index",
				"subscriber-table", "instance-table", "capture-function", "capture-function-grant",
				"pending-function")) {
			assertThat(this.schema.render(script, Map.of())).as(script)
				.doesNotContain("{{")
				.contains("\"audit\".\"events_log");
		}
	}

	@Test
	void theCaptureFunctionNamesTablesOutsideTheApplicationsSchemaWithTheirSchema() {
		assertThat(this.schema.render("capture-function", Map.of()))
			.contains("WHEN TG_TABLE_SCHEMA OPERATOR(pg_catalog.=) 'app' THEN TG_TABLE_NAME");
	}

	@Test
	void aScriptsOwnPlaceholdersAreFilledToo() {
		String trigger = this.schema.render("capture-trigger",
				Map.of("trigger_name", "\"events_log_insert\"", "operation", "INSERT", "table", "\"public\".\"member\"",
						"referencing", "REFERENCING NEW TABLE AS new_rows", "level", "STATEMENT", "arguments", "'id'"));
		assertThat(trigger).doesNotContain("{{")
			.contains("CREATE OR REPLACE TRIGGER \"events_log_insert\"")
			.contains("AFTER INSERT ON \"public\".\"member\"")
			.contains("FOR EACH STATEMENT EXECUTE FUNCTION \"audit\".\"events_log_capture\"('id')");
	}

}
