package dev.pgevents.autoconfigure;

import java.util.ArrayList;
import java.util.List;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Configuration of change events from PostgreSQL.
 */
@ConfigurationProperties("events")
public class EventsProperties {

	/**
	 * Whether to capture row changes and deliver them to event subscribers.
	 */
	private boolean enabled = true;

	private final Schema schema = new Schema();

	private final Audit audit = new Audit();

	private final Dispatch dispatch = new Dispatch();

	public boolean isEnabled() {
		return this.enabled;
	}

	public void setEnabled(boolean enabled) {
		this.enabled = enabled;
	}

	public Schema getSchema() {
		return this.schema;
	}

	public Audit getAudit() {
		return this.audit;
	}

	public Dispatch getDispatch() {
		return this.dispatch;
	}

	/**
	 * How the audit schema is installed.
	 */
	public static class Schema {

		/**
		 * Whether to create the audit table, the capture function and the triggers at
		 * startup ('always'), or to expect them installed by the application's own
		 * migrations ('never').
		 */
		private Initialize initialize = Initialize.ALWAYS;

		public Initialize getInitialize() {
			return this.initialize;
		}

		public void setInitialize(Initialize initialize) {
			this.initialize = initialize;
		}

	}

	/**
	 * When the audit schema is installed.
	 */
	public enum Initialize {

		/** Install at every startup, when missing or changed. */
		ALWAYS,

		/** Never install: the application's migrations own the schema. */
		NEVER

	}

	/**
	 * What is captured, and where.
	 */
	public static class Audit {

		/**
		 * Name of the audit table, optionally schema-qualified. The delivery ledger is named
		 * after it, with the suffix '_delivery'.
		 */
		private String tableName = "keel_audit";

		/**
		 * Tables to audit in addition to those named by event subscribers.
		 */
		private List<String> tables = new ArrayList<>();

		public String getTableName() {
			return this.tableName;
		}

		public void setTableName(String tableName) {
			this.tableName = tableName;
		}

		public List<String> getTables() {
			return this.tables;
		}

		public void setTables(List<String> tables) {
			this.tables = tables;
		}

	}

	/**
	 * How committed changes reach the subscribers.
	 */
	public static class Dispatch {

		/**
		 * Where subscribers run after commit: 'sync' in the committing thread (they have run
		 * when the transactional method returns), 'async' on a dispatch executor.
		 */
		private Mode mode = Mode.SYNC;

		/**
		 * Number of threads that dispatch events in 'async' mode.
		 */
		private int threads = 2;

		/**
		 * Number of committed transactions that can wait for dispatch in 'async' mode;
		 * beyond it their events are left for the relay.
		 */
		private int queueCapacity = 10_000;

		public Mode getMode() {
			return this.mode;
		}

		public void setMode(Mode mode) {
			this.mode = mode;
		}

		public int getThreads() {
			return this.threads;
		}

		public void setThreads(int threads) {
			this.threads = threads;
		}

		public int getQueueCapacity() {
			return this.queueCapacity;
		}

		public void setQueueCapacity(int queueCapacity) {
			this.queueCapacity = queueCapacity;
		}

	}

	/**
	 * Where subscribers run after commit.
	 */
	public enum Mode {

		/** In the committing thread. */
		SYNC,

		/** On the dispatch executor. */
		ASYNC

	}

}
