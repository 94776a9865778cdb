package dev.pgevents.autoconfigure;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.util.List;
import java.util.zip.CRC32;

import dev.pgevents.EventSchemaScript;
import dev.pgevents.internal.capture.AuditSchema;
import dev.pgevents.internal.capture.CaptureScripts;
import dev.pgevents.internal.capture.SchemaDiff;
import dev.pgevents.internal.capture.SchemaStatements;
import dev.pgevents.internal.dispatch.SubscriberRegistry;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.SingleConnectionDataSource;

/**
 * The audit schema's SQL for the application's audited tables, as the startup installs
 * it. Everything is read on the migration's own connection, the audit schema's names
 * included (the connection's current schema is the application's, unless the migration
 * tool sets another: the startup then finds a function rendered for another schema, and
 * fails saying so). Asking the application's pool for a second connection while the
 * migration holds one could wait for the pool to run dry; and the bean is created before
 * migrations that may create the application's schema.
 */
final class RenderedEventSchema implements EventSchemaScript {

	private final SubscriberRegistry subscribers;

	private final EventsProperties.Audit properties;

	RenderedEventSchema(SubscriberRegistry subscribers, EventsProperties.Audit properties) {
		this.subscribers = subscribers;
		this.properties = properties;
	}

	@Override
	public List<String> statements(Connection connection) {
		JdbcTemplate jdbc = jdbc(connection);
		AuditSchema schema = AuditSchema.resolve(jdbc, this.properties.getTableName(),
				this.properties.getTrustedRoles());
		return new SchemaStatements(schema).all(AuditedTables.resolve(jdbc, schema, this.subscribers, this.properties));
	}

	@Override
	public List<String> differences(Connection connection) {
		JdbcTemplate jdbc = jdbc(connection);
		AuditSchema schema = AuditSchema.resolve(jdbc, this.properties.getTableName(),
				this.properties.getTrustedRoles());
		return new SchemaDiff(jdbc, schema)
			.differences(AuditedTables.resolve(jdbc, schema, this.subscribers, this.properties));
	}

	/** Operations on a migration's own connection, which stays open for it. */
	private static JdbcTemplate jdbc(Connection connection) {
		return new JdbcTemplate(new SingleConnectionDataSource(connection, true));
	}

	@Override
	public int checksum() {
		CRC32 crc = new CRC32();
		for (String part : List.of(CaptureScripts.sources(), this.properties.getTableName(),
				String.join(",", this.subscribers.tables()), String.join(",", this.subscribers.orderedNames()),
				String.join(",", this.properties.getTables()), String.join(",", this.properties.getExcludeColumns()),
				String.join(",", this.properties.getTrustedRoles()))) {
			crc.update(part.getBytes(StandardCharsets.UTF_8));
			crc.update(0);
		}
		return (int) crc.getValue();
	}

}
