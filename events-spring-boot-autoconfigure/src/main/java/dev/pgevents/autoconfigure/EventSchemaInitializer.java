package dev.pgevents.autoconfigure;

import java.util.List;
import java.util.Locale;

import javax.sql.DataSource;

import org.jspecify.annotations.Nullable;

import dev.pgevents.internal.capture.AuditSchema;
import dev.pgevents.internal.capture.SchemaCatalog;
import dev.pgevents.internal.capture.SchemaDiff;
import dev.pgevents.internal.capture.SchemaInstaller;
import dev.pgevents.internal.capture.AuditedTable;
import dev.pgevents.internal.support.StartupFailure;
import dev.pgevents.internal.dispatch.SubscriberRegistry;
import dev.pgevents.internal.dispatch.Subscriptions;

import org.springframework.beans.factory.InitializingBean;
import org.springframework.boot.jdbc.EmbeddedDatabaseConnection;
import org.springframework.boot.sql.init.DatabaseInitializationMode;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Finds the audited tables at startup ({@link AuditedTables}), then installs (or, with
 * {@code events.schema.initialize=never}, expects) the audit schema. Runs after Flyway,
 * Liquibase and Boot's SQL scripts, and before the application's own database users
 * (JdbcTemplate, JPA), as a database initializer.
 */
final class EventSchemaInitializer implements InitializingBean {

	private final JdbcTemplate jdbc;

	private final SchemaCatalog catalog;

	private final SchemaDiff diff;

	private final DataSource dataSource;

	private final AuditSchema schema;

	private final SubscriberRegistry subscribers;

	private final EventsProperties properties;

	private List<AuditedTable> tables = List.of();

	private @Nullable Subscriptions subscriptions;

	EventSchemaInitializer(DataSource dataSource, AuditSchema schema, SubscriberRegistry subscribers,
			EventsProperties properties) {
		this.jdbc = new JdbcTemplate(dataSource);
		this.catalog = new SchemaCatalog(this.jdbc, schema);
		this.diff = new SchemaDiff(this.jdbc, schema);
		this.dataSource = dataSource;
		this.schema = schema;
		this.subscribers = subscribers;
		this.properties = properties;
	}

	@Override
	public void afterPropertiesSet() {
		this.tables = AuditedTables.resolve(this.jdbc, this.schema, this.subscribers, this.properties.getAudit());
		this.subscriptions = this.subscribers.subscriptions(this.tables);
		if (installs(this.properties.getSchema().getInitialize())) {
			new SchemaInstaller(this.schema, this.dataSource).install(this.tables);
		}
		else {
			verifyInstalled();
		}
		this.catalog.distrustingOwner().ifPresent((owner) -> {
			String role = this.jdbc.queryForObject("SELECT session_user", String.class);
			throw new StartupFailure(
					"The application connects as the role '" + role + "', which the capture function (owned by '"
							+ owner + "') does not trust: its "
							+ "transactions' changes would record the role, not their identity and trace",
					"Add '" + role + "' to events.audit.trusted-roles, or grant the role '" + owner + "' to it");
		});
	}

	/**
	 * With the schema owned by migrations, check that they installed what this version
	 * needs: anything missing or outdated would make changes go uncaptured, silently.
	 */
	private void verifyInstalled() {
		String fix = "with your migrations (a dev.pgevents.flyway.EventSchemaMigration under Flyway, or the SQL of "
				+ "EventSchemaScript: see docs/schema.md), or set events.schema.initialize=always";
		if (!this.catalog.isInstalled()) {
			throw new StartupFailure("The audit table " + this.schema.auditTable()
					+ " does not exist and events.schema.initialize is '" + mode() + "'",
					"Install the audit schema " + fix);
		}
		if (!this.subscribers.names().isEmpty() && !this.catalog.isPendingFunctionInstalled()) {
			throw new StartupFailure("The function " + this.schema.pendingFunction()
					+ " does not exist and events.schema.initialize is '" + mode() + "'; the subscribers need it",
					"Install pending-function.sql " + fix);
		}
		List<String> outdated = this.diff.outdatedFunctions();
		if (!outdated.isEmpty()) {
			throw new StartupFailure("The audit function" + ((outdated.size() > 1) ? "s " : " ")
					+ String.join(" and ", outdated) + ((outdated.size() > 1) ? " are" : " is")
					+ " missing or not this version's (installed by an earlier version, or rendered for another "
					+ "application schema than " + this.schema.applicationSchema()
					+ ") and events.schema.initialize is '" + mode()
					+ "': changes would not be captured or read as this version expects",
					"Install this version's capture-function.sql and pending-function.sql " + fix);
		}
		if (!this.catalog.isInstanceTableInstalled()) {
			throw new StartupFailure("The table " + this.schema.instanceTable()
					+ " does not exist and events.schema.initialize is '" + mode() + "'",
					"Install instance-table.sql " + fix);
		}
		List<String> missingForOrder = this.diff.missingForOrder(this.tables);
		if (!missingForOrder.isEmpty()) {
			throw new StartupFailure(
					String.join(", ", missingForOrder) + ((missingForOrder.size() > 1) ? " are" : " is")
							+ " missing and events.schema.initialize is '" + mode() + "': the dispatch, the delivery "
							+ "ledger and the subscribers that take rows' events in order need them",
					"Install audit-causation.sql, delivery-row-key.sql, delivery-row-index.sql and, for each table "
							+ "with an ordered " + "subscriber, audit-order-index.sql " + fix);
		}
		for (AuditedTable table : this.tables) {
			List<String> missing = this.diff.missingTriggers(table);
			if (!missing.isEmpty()) {
				throw new StartupFailure(
						"Table '" + table.name() + "' lacks its " + String.join(", ", missing) + " capture trigger"
								+ ((missing.size() > 1) ? "s" : "")
								+ " (or has another definition of it) and events.schema.initialize is '" + mode()
								+ "': its changes would not be delivered",
						"Install its capture triggers (capture-trigger.sql) " + fix);
			}
		}
	}

	private String mode() {
		return this.properties.getSchema().getInitialize().name().toLowerCase(Locale.ROOT);
	}

	private boolean installs(DatabaseInitializationMode mode) {
		return mode == DatabaseInitializationMode.ALWAYS || (mode == DatabaseInitializationMode.EMBEDDED
				&& EmbeddedDatabaseConnection.isEmbedded(this.dataSource));
	}

	List<AuditedTable> auditedTables() {
		return this.tables;
	}

	/**
	 * Who takes each event of the audited tables.
	 * @return the subscriptions
	 * @throws IllegalStateException before the initializer ran
	 */
	Subscriptions subscriptions() {
		Subscriptions subscriptions = this.subscriptions;
		if (subscriptions == null) {
			throw new IllegalStateException("The audited tables are not known yet");
		}
		return subscriptions;
	}

	boolean capturesAnything() {
		return !this.tables.isEmpty();
	}

}
