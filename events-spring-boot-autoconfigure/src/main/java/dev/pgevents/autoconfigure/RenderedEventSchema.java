package dev.pgevents.autoconfigure;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.util.List;
import java.util.zip.CRC32;

import dev.pgevents.EventSchemaScript;
import dev.pgevents.internal.capture.AuditSchema;
import dev.pgevents.internal.dispatch.SubscriberRegistry;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.SingleConnectionDataSource;

/**
 * The audit schema's SQL for the application's audited tables, as the startup installs
 * it. The audit schema's names are resolved on first use, not when the bean is created: a
 * migration that uses it may be created before the database has the application's schema.
 */
final class RenderedEventSchema implements EventSchemaScript {

	private final ObjectProvider<AuditSchema> schema;

	private final SubscriberRegistry subscribers;

	private final EventsProperties.Audit properties;

	RenderedEventSchema(ObjectProvider<AuditSchema> schema, SubscriberRegistry subscribers,
			EventsProperties.Audit properties) {
		this.schema = schema;
		this.subscribers = subscribers;
		this.properties = properties;
	}

	@Override
	public List<String> statements(Connection connection) {
		AuditSchema schema = this.schema.getObject();
		return schema.statements(AuditedTables.resolve(jdbc(connection), schema, this.subscribers, this.properties));
	}

	@Override
	public List<String> differences(Connection connection) {
		AuditSchema schema = this.schema.getObject();
		JdbcTemplate jdbc = jdbc(connection);
		return schema.differences(jdbc, AuditedTables.resolve(jdbc, schema, this.subscribers, this.properties));
	}

	/** Operations on a migration's own connection, which stays open for it. */
	private static JdbcTemplate jdbc(Connection connection) {
		return new JdbcTemplate(new SingleConnectionDataSource(connection, true));
	}

	@Override
	public int checksum() {
		CRC32 crc = new CRC32();
		for (String part : List.of(AuditSchema.sources(), this.properties.getTableName(),
				String.join(",", this.subscribers.tables()), String.join(",", this.properties.getTables()),
				String.join(",", this.properties.getExcludeColumns()))) {
			crc.update(part.getBytes(StandardCharsets.UTF_8));
			crc.update(0);
		}
		return (int) crc.getValue();
	}

}
