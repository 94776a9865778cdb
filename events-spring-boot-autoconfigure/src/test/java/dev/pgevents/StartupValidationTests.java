package dev.pgevents;

import java.util.Map;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.pgevents.autoconfigure.EventsAutoConfiguration;
import dev.pgevents.internal.support.StartupFailure;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceInitializationAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DriverManagerDataSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Wrong subscriber declarations and properties stop the application at startup, with a
 * message that names the method or key and says how to fix it.
 */
class StartupValidationTests {

	static String url;

	final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(DataSourceAutoConfiguration.class,
				DataSourceInitializationAutoConfiguration.class, DataSourceTransactionManagerAutoConfiguration.class,
				JacksonAutoConfiguration.class, EventsAutoConfiguration.class))
		.withPropertyValues("spring.datasource.url=" + url, TestApplications.SQL_INIT, TestApplications.MEMBER_SCHEMA);

	@BeforeAll
	static void database() {
		url = TestDatabase.create();
	}

	@Test
	void aUserThatMayNotInstallTheSchemaFailsSayingWhatToGrant() {
		String database = TestDatabase.create();
		JdbcTemplate admin = new JdbcTemplate(new DriverManagerDataSource(database));
		admin.execute("CREATE TABLE member (id uuid PRIMARY KEY, name text, email text)");
		admin.execute(
				"DO $$ BEGIN CREATE ROLE events_limited LOGIN; " + "EXCEPTION WHEN duplicate_object THEN NULL; END $$");
		admin.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC"); // as PostgreSQL 15
																		// does
		assertThat(database).contains("user=postgres");
		new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(DataSourceAutoConfiguration.class,
					DataSourceTransactionManagerAutoConfiguration.class, JacksonAutoConfiguration.class,
					EventsAutoConfiguration.class))
			.withPropertyValues("spring.datasource.url=" + database.replace("user=postgres", "user=events_limited"))
			.withUserConfiguration(Subscriber.config(new Object() {
				@EventSubscriber("member.created")
				void onCreated(Event event) {
				}
			}))
			.run((context) -> {
				StartupFailure failure = startupFailure(context.getStartupFailure());
				assertThat(failure.description()).startsWith("The database user cannot install the audit schema")
					.contains("permission denied");
				assertThat(failure.action()).contains("Grant that user CREATE on the schema")
					.contains("events.schema.initialize=never");
			});
	}

	private static StartupFailure startupFailure(Throwable failure) {
		for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
			if (cause instanceof StartupFailure startup) {
				return startup;
			}
		}
		throw new AssertionError("No StartupFailure in " + failure, failure);
	}

	@Test
	void anEventNameThatIsNotTableDotOperationFailsNamingTheMethod() {
		this.runner.withUserConfiguration(Subscriber.config(new Object() {
			@EventSubscriber("member.create")
			void onCreated(Event event) {
			}
		}))
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("onCreated(Event)")
				.hasMessageContaining(
						"event name 'member.create' is not '<table>.<created|updated|deleted|truncated|snapshot>'")
				.hasMessageContaining("Did you mean 'member.created'?"));
	}

	@Test
	void aTableThatDoesNotExistFailsNamingTheMethodAndTable() {
		this.runner.withUserConfiguration(Subscriber.config(new Object() {
			@EventSubscriber("membr.created")
			void onCreated(Event event) {
			}
		}))
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("Table 'membr'")
				.hasMessageContaining("onCreated(Event)")
				.hasMessageContaining("does not exist"));
	}

	@Test
	void aTableWithoutPrimaryKeyFailsNamingTheMethodAndTable() {
		this.runner.withUserConfiguration(Subscriber.config(new Object() {
			@EventSubscriber("unkeyed.created")
			void onCreated(Event event) {
			}
		}))
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("Table 'unkeyed'")
				.hasMessageContaining("onCreated(Event)")
				.hasMessageContaining("has no primary key")
				.hasMessageContaining("ADD PRIMARY KEY"));
	}

	@Test
	void twoSubscribersWithOneNameFailNamingBothMethods() {
		this.runner.withUserConfiguration(DuplicateNames.class)
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("the subscriber name 'history' is taken by")
				.hasMessageContaining("DuplicateNames.first(Event)")
				.hasMessageContaining("DuplicateNames.second(Event)"));
	}

	@Test
	void aParameterThatCannotBeSuppliedFailsNamingTheMethodAndParameter() {
		this.runner.withUserConfiguration(Subscriber.config(new Object() {
			@EventSubscriber("member.created")
			void onCreated(Event event, String name) {
			}
		}))
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("onCreated(Event, String)")
				.hasMessageContaining("cannot supply parameter 2 of type java.lang.String"));
	}

	@Test
	void twoParametersBoundFromDataFail() {
		this.runner.withUserConfiguration(Subscriber.config(new Object() {
			@EventSubscriber("member.created")
			void onCreated(Map<String, Object> data, DeliveryTests.Member member) {
			}
		}))
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("onCreated(Map, Member)")
				.hasMessageContaining("only one parameter can be bound"));
	}

	@Test
	void anAuditTableNameThatIsNotAnIdentifierFailsNamingTheKey() {
		this.runner.withPropertyValues("events.audit.table-name=audit; DROP TABLE member")
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("events.audit.table-name")
				.hasMessageContaining("audit; DROP TABLE member")
				.hasMessageContaining("lower-case SQL identifier"));
	}

	@Test
	void aViewIsRefusedSayingWhatItIs() {
		new JdbcTemplate(new DriverManagerDataSource(url))
			.execute("CREATE OR REPLACE VIEW member_names AS SELECT id, name FROM member");
		this.runner.withPropertyValues("events.audit.tables=member_names")
			.run((context) -> assertThat(startupFailure(context.getStartupFailure()).description())
				.isEqualTo("'member_names' listed in events.audit.tables[0] is a view, not a table: no trigger "
						+ "captures writes to it"));
	}

	@Test
	void aTableWhoseNameNeedsQuotingIsRefusedSayingToRenameIt() {
		new JdbcTemplate(new DriverManagerDataSource(url))
			.execute("CREATE TABLE IF NOT EXISTS \"Order-Items\" (id bigint PRIMARY KEY)");
		this.runner.withUserConfiguration(Subscriber.config(new Object() {
			@EventSubscriber("Order-Items.created")
			void onCreated(Event event) {
			}
		}))
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("onCreated(Event)")
				.hasMessageContaining("Tables whose names need quoting (upper case, dashes) cannot be audited"));
		this.runner.withPropertyValues("events.audit.tables=Order-Items")
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("events.audit.tables[0]")
				.hasMessageContaining("cannot be audited: rename it"));
	}

	@Test
	void anAuditedTableThatIsNotAnIdentifierFailsNamingTheKey() {
		this.runner.withPropertyValues("events.audit.tables=note,\"member\"")
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("events.audit.tables[1]")
				.hasMessageContaining("lower-case SQL identifier"));
	}

	@Test
	void anAuditedTableThatDoesNotExistFailsNamingTheKey() {
		this.runner.withPropertyValues("events.audit.tables=nope")
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("Table 'nope' listed in events.audit.tables[0] does not exist"));
	}

	@Test
	void aPartitionIsRefusedNamingItsPartitionedTable() {
		JdbcTemplate jdbc = new JdbcTemplate(new DriverManagerDataSource(url));
		jdbc.execute("CREATE TABLE IF NOT EXISTS shipment (id bigint, region text, PRIMARY KEY (id, region)) "
				+ "PARTITION BY LIST (region)");
		jdbc.execute("CREATE TABLE IF NOT EXISTS shipment_eu PARTITION OF shipment FOR VALUES IN ('eu')");
		this.runner.withPropertyValues("events.audit.tables=shipment_eu")
			.run((context) -> assertThat(startupFailure(context.getStartupFailure()).getMessage())
				.startsWith("Table 'shipment_eu' is a partition of shipment"));
	}

	@Test
	void aTableIsNamedAsItsEventsNameItSoThatNoTwoNamesMeanOneTable() {
		JdbcTemplate jdbc = new JdbcTemplate(new DriverManagerDataSource(url));
		jdbc.execute("CREATE SCHEMA IF NOT EXISTS ledger");
		jdbc.execute("CREATE TABLE IF NOT EXISTS public.entry (id bigint PRIMARY KEY)");
		this.runner.withUserConfiguration(Subscriber.config(new Object() {
			@EventSubscriber("public.member.created")
			void onCreated(Event event) {
			}
		}))
			.run((context) -> assertThat(startupFailure(context.getStartupFailure()).description())
				.startsWith("Table 'public.member' named by the events of @EventSubscriber method ")
				.contains("onCreated(Event)")
				.endsWith("has events named 'member.<op>'"));
		// found through the search_path, but not in the application's schema (ledger)
		this.runner.withPropertyValues("spring.datasource.url=" + url + "&currentSchema=ledger,public")
			.withUserConfiguration(Subscriber.config(new Object() {
				@EventSubscriber("entry.created")
				void onCreated(Event event) {
				}
			}))
			.run((context) -> assertThat(startupFailure(context.getStartupFailure()))
				.satisfies(
						(failure) -> assertThat(failure.description()).endsWith("has events named 'public.entry.<op>'"))
				.satisfies((failure) -> assertThat(failure.action()).startsWith("Name them 'public.entry.<op>'")));
		// events.audit.tables may spell it either way
		this.runner.withPropertyValues("events.audit.tables=public.note,note")
			.run((context) -> assertThat(context).hasNotFailed());
	}

	@Test
	void aMissingSchemaWithInitializationOffFailsSayingHowToInstallIt() {
		this.runner.withPropertyValues("events.schema.initialize=never", "events.audit.table-name=never_installed")
			.withUserConfiguration(Subscriber.config(new Object() {
				@EventSubscriber("member.created")
				void onCreated(Event event) {
				}
			}))
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("never_installed")
				.hasMessageContaining("events.schema.initialize"));
	}

	@Test
	void aSchemaInstalledWithoutTheLookupFunctionFailsNamingTheScript() {
		Object subscriber = new Object() {
			@EventSubscriber("member.created")
			void onCreated(Event event) {
			}
		};
		// installed by an earlier version, or by migrations that left the function out
		this.runner.withPropertyValues("events.audit.table-name=no_lookup")
			.withUserConfiguration(Subscriber.config(subscriber))
			.run((context) -> assertThat(context).hasNotFailed());
		new JdbcTemplate(new DriverManagerDataSource(url))
			.execute("DROP FUNCTION no_lookup_pending(uuid, bigint, integer)");
		this.runner.withPropertyValues("events.schema.initialize=never", "events.audit.table-name=no_lookup")
			.withUserConfiguration(Subscriber.config(subscriber))
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("no_lookup_pending")
				.hasMessageContaining("pending-function.sql"));
	}

	@Test
	void anApplicationOfAnotherSchemaMayNotTakeOverASharedAuditTable() {
		this.runner.withPropertyValues("events.audit.table-name=shared_audit")
			.run((context) -> assertThat(context).hasNotFailed());
		new JdbcTemplate(new DriverManagerDataSource(url)).execute("CREATE SCHEMA IF NOT EXISTS other_app");
		this.runner
			.withPropertyValues("spring.datasource.url=" + url + "&currentSchema=other_app,public",
					"events.audit.table-name=public.shared_audit")
			.run((context) -> assertThat(startupFailure(context.getStartupFailure()).description()).contains(
					"was installed by an application whose schema is 'public', and this one's is " + "'other_app'"));
	}

	@Test
	void aCaptureFunctionOfAnotherVersionWithInitializationOffFailsNamingIt() {
		Object subscriber = new Object() {
			@EventSubscriber("member.created")
			void onCreated(Event event) {
			}
		};
		this.runner.withPropertyValues("events.audit.table-name=old_function")
			.withUserConfiguration(Subscriber.config(subscriber))
			.run((context) -> assertThat(context).hasNotFailed());
		// migrations that installed an earlier version's function
		new JdbcTemplate(new DriverManagerDataSource(url))
			.execute("CREATE OR REPLACE FUNCTION old_function_capture() RETURNS trigger LANGUAGE plpgsql "
					+ "SECURITY DEFINER AS $$ BEGIN RETURN NULL; END $$");
		this.runner.withPropertyValues("events.schema.initialize=never", "events.audit.table-name=old_function")
			.withUserConfiguration(Subscriber.config(subscriber))
			.run((context) -> assertThat(startupFailure(context.getStartupFailure()))
				.satisfies((failure) -> assertThat(failure.description())
					.startsWith("The audit function \"public\".\"old_function_capture\"() is missing or not this "
							+ "version's"))
				.satisfies((failure) -> assertThat(failure.action()).contains("capture-function.sql")));
	}

	@Test
	void aTableWithoutItsCaptureTriggersWithInitializationOffFailsNamingIt() {
		Object subscriber = new Object() {
			@EventSubscriber("member.updated")
			void onUpdated(Event event) {
			}
		};
		this.runner.withPropertyValues("events.audit.table-name=no_trigger")
			.withUserConfiguration(Subscriber.config(subscriber))
			.run((context) -> assertThat(context).hasNotFailed());
		// a migration dropped it, or the team's migrations never installed it
		new JdbcTemplate(new DriverManagerDataSource(url)).execute("DROP TRIGGER no_trigger_update ON member");
		this.runner.withPropertyValues("events.schema.initialize=never", "events.audit.table-name=no_trigger")
			.withUserConfiguration(Subscriber.config(subscriber))
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("Table 'member' lacks its UPDATE capture trigger")
				.hasMessageContaining("capture-trigger.sql"));
	}

	@Test
	void twoColumnsWithTheSameDataKeyFailNamingBoth() {
		new JdbcTemplate(new DriverManagerDataSource(url))
			.execute("CREATE TABLE twin (id bigint PRIMARY KEY, created_at text, \"createdAt\" text)");
		this.runner.withUserConfiguration(Subscriber.config(new Object() {
			@EventSubscriber("twin.created")
			void onCreated(Event event) {
			}
		}))
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("Columns \"created_at\" and \"createdAt\" of table 'twin'")
				.hasMessageContaining("'createdAt'"));
	}

	@Test
	void anExcludedColumnThatDoesNotExistFailsNamingTheEntry() {
		Map.of("account.nope",
				"events.audit.exclude-columns[0] is 'account.nope', but table 'account' has no column "
						+ "'nope' (its columns: id, email, status, password_hash, national_id, last_seen_at)",
				"nosuch.email",
				"events.audit.exclude-columns[0] is 'nosuch.email', but table 'nosuch' is not audited (audited: "
						+ "account)",
				"account.id", "events.audit.exclude-columns[0] excludes 'id', a primary-key column of table 'account'")
			.forEach((entry, message) -> this.runner.withUserConfiguration(Subscriber.config(new Object() {
				@EventSubscriber("account.created")
				void onCreated(Event event) {
				}
			}))
				.withPropertyValues("events.audit.exclude-columns=" + entry)
				.run((context) -> assertThat(startupFailure(context.getStartupFailure()).getMessage())
					.startsWith(message)));
	}

	@Test
	void aChangedExclusionListTakesEffectAtTheNextStart() {
		Object subscriber = new Object() {
			@EventSubscriber("account.created")
			void onCreated(Event event) {
			}
		};
		JdbcTemplate jdbc = new JdbcTemplate(new DriverManagerDataSource(url));
		this.runner.withUserConfiguration(Subscriber.config(subscriber))
			.run((context) -> assertThat(context).hasNotFailed());
		jdbc.update("INSERT INTO account (id, email, password_hash) VALUES (101, 'a@example.com', 'before')");
		this.runner.withUserConfiguration(Subscriber.config(subscriber))
			.withPropertyValues("events.audit.exclude-columns=password_hash")
			.run((context) -> assertThat(context).hasNotFailed());
		jdbc.update("INSERT INTO account (id, email, password_hash) VALUES (102, 'b@example.com', 'after')");

		assertThat(jdbc.queryForList("SELECT data->>'password_hash' FROM keel_audit WHERE table_name = 'account' "
				+ "AND data->>'id' IN ('101', '102') ORDER BY id", String.class))
			.containsExactly("before", null);
	}

	@Test
	void filtersThatCannotWorkFailNamingTheMethod() {
		this.runner.withUserConfiguration(Subscriber.config(new Object() {
			@EventSubscriber(value = "account.updated", changed = "emial")
			void onUpdated(Event event) {
			}
		}))
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("onUpdated(Event)")
				.hasMessageContaining("filters on the changed field 'emial', which none of its updated tables has "
						+ "(their fields: id, email, status, passwordHash, nationalId, lastSeenAt)"));
		this.runner.withUserConfiguration(Subscriber.config(new Object() {
			@EventSubscriber(value = "account.created", changed = "email")
			void onCreated(Event event) {
			}
		}))
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("onCreated(Event)")
				.hasMessageContaining("takes no update event"));
		this.runner.withUserConfiguration(Subscriber.config(new Object() {
			@EventSubscriber(value = "account.updated", condition = "target.data['status'] ==")
			void onUpdated(Event event) {
			}
		}))
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("onUpdated(Event)")
				.hasMessageContaining("condition 'target.data['status'] ==' is not a valid SpEL expression"));
	}

	@Test
	void patternsThatMatchNothingOrAreMalformedFailNamingTheMethod() {
		this.runner.withUserConfiguration(Subscriber.config(new Object() {
			@EventSubscriber("*.deleted")
			void onDeleted(Event event) {
			}
		}))
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("onDeleted(Event)")
				.hasMessageContaining("event pattern '*.deleted' matches no table"));
		this.runner.withUserConfiguration(Subscriber.config(new Object() {
			@EventSubscriber("member.*d")
			void onAny(Event event) {
			}
		}))
			.run((context) -> assertThat(context).getFailure()
				.rootCause()
				.hasMessageContaining("onAny(Event)")
				.hasMessageContaining("nor a pattern '<table>.*' or '*.<created|updated|deleted|truncated|snapshot>'"));
	}

	@Test
	void propertyValuesThatCannotWorkFailNamingTheKey() {
		Map.of("events.retry.multiplier=0.5", "events.retry.multiplier", "events.relay.batch-size=0",
				"events.relay.batch-size", "events.retry.max-attempts=0", "events.retry.max-attempts",
				"events.relay.lease=100ms", "events.relay.lease", "events.retry.max-delay=1ms",
				"events.retry.max-delay", "events.dispatch.threads=0", "events.dispatch.threads",
				"events.retention=-1s", "events.retention", "events.dispatch.sync-limit=-1",
				"events.dispatch.sync-limit")
			.forEach((property, key) -> this.runner.withPropertyValues(property)
				.run((context) -> assertThat(context).getFailure()
					.rootCause()
					.hasMessageContaining("Property " + key + " with value")
					.hasMessageContaining("Use ")));
	}

	@Test
	void aSubscriberOnABeanWhoseTypeIsHiddenFailsSayingHowToFixIt() {
		this.runner.withUserConfiguration(HiddenType.class)
			.run((context) -> assertThat(context).getFailure()
				.hasMessageContaining("Hidden.onCreated(Event)")
				.hasMessageContaining("Declare the bean's concrete class as the @Bean method's return type"));
	}

	@Test
	void aValidDeclarationStarts() {
		this.runner.withUserConfiguration(Subscriber.config(new Object() {
			@EventSubscriber("member.created")
			void onCreated(DeliveryTests.Member member, Event event) {
			}
		})).run((context) -> assertThat(context).hasNotFailed());
	}

	static final class Subscriber {

		private static Object bean;

		static Class<?> config(Object subscriber) {
			bean = subscriber;
			return Config.class;
		}

		@Configuration(proxyBeanMethods = false)
		static class Config {

			@Bean
			Object subscriber() {
				return bean;
			}

		}

	}

	@Configuration(proxyBeanMethods = false)
	static class HiddenType {

		// created after the registry, which cannot see past the declared type
		@Bean
		Runnable hidden(dev.pgevents.internal.dispatch.SubscriberRegistry registry) {
			return new Hidden();
		}

	}

	static class Hidden implements Runnable {

		@EventSubscriber("member.created")
		void onCreated(Event event) {
		}

		@Override
		public void run() {
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class DuplicateNames {

		@EventSubscriber(value = "member.created", name = "history")
		void first(Event event) {
		}

		@EventSubscriber(value = "member.updated", name = "history")
		void second(Event event) {
		}

	}

}
