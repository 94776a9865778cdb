package dev.pgevents.internal.capture;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.util.Objects;

import javax.sql.DataSource;

import org.aopalliance.intercept.MethodInterceptor;
import org.jspecify.annotations.Nullable;

import org.springframework.aop.framework.ProxyFactory;
import org.springframework.aop.support.NameMatchMethodPointcutAdvisor;

/**
 * Connections of the audited database on which a transaction's capture context waits for
 * the transaction's first statement that may write an audited table: a transaction that
 * writes none (most of an application's) sends nothing for it and has nothing to
 * dispatch.
 * <p>
 * The application's DataSource is proxied (a subclass proxy where the class allows one,
 * so the bean keeps its type); every connection it hands out is a proxy that sends the
 * pending context, on the same connection, just before such a statement is prepared or
 * executed. A connection's context is dropped when its transaction ends, and sent again
 * after a rollback to a savepoint, which may have undone it.
 */
public final class ContextConnections {

	private ContextConnections() {
	}

	/**
	 * Proxy a DataSource so that its connections can hold a transaction's context until
	 * it is needed.
	 * @param dataSource the application's DataSource
	 * @return the proxy, of the same class where that class can be subclassed
	 */
	public static DataSource wrap(DataSource dataSource) {
		ProxyFactory factory = new ProxyFactory(dataSource);
		factory.setProxyTargetClass(!Modifier.isFinal(dataSource.getClass().getModifiers()));
		NameMatchMethodPointcutAdvisor advisor = new NameMatchMethodPointcutAdvisor(
				(MethodInterceptor) (invocation) -> {
					Object connection = invocation.proceed();
					return (connection instanceof Connection target) ? wrap(target) : connection;
				});
		advisor.setMappedName("getConnection");
		factory.addAdvisor(advisor);
		return (DataSource) factory.getProxy();
	}

	static Connection wrap(Connection target) {
		return (Connection) Proxy.newProxyInstance(ContextConnections.class.getClassLoader(),
				new Class<?>[] { Connection.class, Deferring.class }, new ConnectionHandler(target));
	}

	/**
	 * A connection that can hold a transaction's context until it is needed.
	 */
	interface Deferring {

		/**
		 * Hold {@code context} until the first statement that may write an audited table,
		 * or until the transaction ends.
		 * @param context the transaction's context
		 */
		void defer(DeferredContext context);

	}

	private static final class ConnectionHandler implements InvocationHandler {

		private static final String UNKNOWN = "?";

		private final Connection target;

		/** The transaction's context, while it waits. */
		private @Nullable DeferredContext pending;

		/** The transaction's context, once sent (a savepoint rollback may undo it). */
		private @Nullable DeferredContext sent;

		/**
		 * The cause set on the session, in autocommit mode only, for the writes of a
		 * subscriber ({@link Causation}) outside any transaction; reset before the
		 * connection leaves autocommit mode or goes back to the pool, so that it never
		 * outlives the borrowing nor is undone by a rollback.
		 */
		private @Nullable String sessionCause;

		/**
		 * The cause set for the transaction open on the connection, one that no context
		 * was deferred for (begun by plain JDBC or a manager the starter does not hook):
		 * it ends with the transaction.
		 */
		private @Nullable String localCause;

		ConnectionHandler(Connection target) {
			this.target = target;
		}

		@Override
		public @Nullable Object invoke(Object proxy, Method method, @Nullable Object[] args) throws Throwable {
			switch (method.getName()) {
				case "defer" -> {
					this.pending = (DeferredContext) args[0];
					this.sent = null;
					return null;
				}
				case "equals" -> {
					return proxy == args[0];
				}
				case "hashCode" -> {
					return System.identityHashCode(proxy);
				}
				case "unwrap", "isWrapperFor" -> {
					if (((Class<?>) args[0]).isInstance(proxy)) {
						return (method.getName().equals("unwrap")) ? proxy : true;
					}
				}
				case "prepareStatement", "prepareCall" -> beforeStatement((String) args[0]);
				case "createStatement" -> {
					Statement statement = (Statement) invoke(method, args);
					return (statement != null
							&& (this.pending != null || this.sessionCause != null || Causation.current() != null))
									? statement(proxy, statement) : statement;
				}
				case "close" -> {
					this.pending = null;
					this.sent = null;
					this.localCause = null;
					if (this.sessionCause != null) {
						setCause(null, false);
					}
				}
				case "setAutoCommit" -> {
					DeferredContext committing = this.sent;
					this.pending = null;
					this.sent = null;
					this.localCause = null;
					if (this.sessionCause != null && Boolean.FALSE.equals(args[0])) {
						setCause(null, false); // still in autocommit: at once, for good
					}
					if (Boolean.TRUE.equals(args[0])) {
						// commits the transaction open on the connection, if one is
						return commit(committing, method, args);
					}
				}
				case "commit" -> {
					DeferredContext committing = this.sent;
					this.pending = null;
					this.sent = null;
					this.localCause = null;
					return commit(committing, method, args);
				}
				case "rollback" -> {
					if (args == null || args.length == 0) {
						this.pending = null;
						this.sent = null;
					}
					else if (this.sent != null) {
						this.pending = this.sent; // the savepoint may have undone it
					}
					this.localCause = null; // undone, or may have been
				}
				default -> {
				}
			}
			return invoke(method, args);
		}

		private @Nullable Object invoke(Method method, @Nullable Object[] args) throws Throwable {
			try {
				return method.invoke(this.target, args);
			}
			catch (InvocationTargetException ex) {
				throw ex.getCause();
			}
		}

		/**
		 * Commit, and take the rows the commit sent back (see {@link CommitNotices}) for
		 * the transaction's dispatch: also off the connection's warnings, where the
		 * application, or a framework that logs them, would find them. A commit that
		 * fails (a deferred constraint of the application's) may have sent some: they are
		 * dropped.
		 */
		private @Nullable Object commit(@Nullable DeferredContext committing, Method method, @Nullable Object[] args)
				throws Throwable {
			if (committing == null || committing.scope() == null) {
				return invoke(method, args);
			}
			SQLWarning before = CommitNotices.last(this.target);
			Object result;
			try {
				result = invoke(method, args);
			}
			catch (Throwable ex) {
				CommitNotices.take(this.target, before);
				throw ex;
			}
			committing.committed(CommitNotices.take(this.target, before));
			return result;
		}

		void beforeStatement(@Nullable String sql) {
			if (sql == null) {
				return;
			}
			DeferredContext context = this.pending;
			if (context != null && context.appliesTo(sql)) {
				this.pending = null;
				this.sent = context;
				context.send(this.target, true);
			}
			Causation.Cause cause = Causation.current();
			if ((cause == null && this.sessionCause == null) || this.pending != null || this.sent != null
					|| AuditedStatements.isQuery(sql)) {
				return; // a deferred context carries the cause with the rest
			}
			// a subscriber's write outside a transaction the starter hooks
			String setting = (cause != null) ? cause.setting() : null;
			if (autoCommit()) {
				if (!Objects.equals(setting, this.sessionCause)) {
					setCause(setting, false);
				}
			}
			else if (setting != null && !setting.equals(this.localCause)) {
				setCause(setting, true);
			}
		}

		private boolean autoCommit() {
			try {
				return this.target.getAutoCommit();
			}
			catch (SQLException ex) {
				return true; // closed: the statement fails anyway
			}
		}

		/**
		 * Set the cause, or clear it, on the session (autocommit mode) or for the open
		 * transaction. Never throws: on a broken connection the application's statement
		 * fails as it would have.
		 */
		private void setCause(@Nullable String setting, boolean local) {
			try (PreparedStatement set = this.target
				.prepareStatement("SELECT pg_catalog.set_config('pgevents.cause', ?, " + local + ")")) {
				set.setString(1, (setting != null) ? setting : "");
				set.execute();
				if (local) {
					this.localCause = setting;
				}
				else {
					this.sessionCause = setting;
				}
			}
			catch (SQLException ex) {
				if (!local) {
					this.sessionCause = UNKNOWN;
				}
			}
		}

		private Statement statement(Object connection, Statement target) {
			return (Statement) Proxy.newProxyInstance(ContextConnections.class.getClassLoader(),
					new Class<?>[] { Statement.class }, (proxy, method, args) -> {
						switch (method.getName()) {
							case "execute", "executeQuery", "executeUpdate", "executeLargeUpdate", "addBatch" -> {
								if (args != null && args.length > 0 && args[0] instanceof String sql) {
									beforeStatement(sql);
								}
							}
							case "getConnection" -> {
								return connection;
							}
							case "equals" -> {
								return proxy == args[0];
							}
							case "hashCode" -> {
								return System.identityHashCode(proxy);
							}
							default -> {
							}
						}
						try {
							return method.invoke(target, args);
						}
						catch (InvocationTargetException ex) {
							throw ex.getCause();
						}
					});
		}

	}

}
