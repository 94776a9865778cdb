package dev.pgevents.flyway;

import java.sql.Statement;

import dev.pgevents.EventSchemaScript;
import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

/**
 * A Flyway migration that installs the audit schema and the capture triggers of the
 * application's audited tables ({@link EventSchemaScript}), for applications whose
 * migrations own the schema ({@code events.schema.initialize=never}). Declare a subclass
 * as a bean, named as a repeatable migration, so that Flyway runs it after the versioned
 * migrations that create the tables, and again whenever its checksum changes (a table
 * added, a column excluded, a new version of this library):
 *
 * <pre class="code">
 * &#064;Component
 * class R__Events_schema extends EventSchemaMigration {
 *
 *     R__Events_schema(EventSchemaScript script) {
 *         super(script);
 *     }
 *
 * }
 * </pre>
 *
 * Spring Boot hands {@code JavaMigration} beans to its Flyway. Keep the class out of
 * Flyway's {@code locations} (by default the package {@code db.migration}), where Flyway
 * would look for a constructor without arguments.
 */
public abstract class EventSchemaMigration extends BaseJavaMigration {

	private final EventSchemaScript script;

	/**
	 * Create the migration.
	 * @param script the application's schema script, an auto-configured bean
	 */
	protected EventSchemaMigration(EventSchemaScript script) {
		this.script = script;
	}

	@Override
	public Integer getChecksum() {
		return this.script.checksum();
	}

	@Override
	public void migrate(Context context) throws Exception {
		try (Statement statement = context.getConnection().createStatement()) {
			for (String sql : this.script.differences(context.getConnection())) {
				statement.execute(sql);
			}
		}
	}

}
