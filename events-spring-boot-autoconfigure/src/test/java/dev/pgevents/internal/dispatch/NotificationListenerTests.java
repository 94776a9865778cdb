package dev.pgevents.internal.dispatch;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import dev.pgevents.TestDatabase;
import dev.pgevents.internal.capture.AuditSchema;

import org.springframework.jdbc.datasource.AbstractDataSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class NotificationListenerTests {

	/**
	 * A pool hands out a connection whose server end is gone (the server restarted, and
	 * the pool has not noticed yet): the listener gives it back rather than keep it,
	 * which would take it from the pool for good.
	 */
	@Test
	void aConnectionThatCannotListenIsGivenBack() throws Exception {
		String url = TestDatabase.create();
		try (Connection dead = DriverManager.getConnection(url);
				Connection admin = DriverManager.getConnection(url);
				Statement statement = admin.createStatement()) {
			int pid;
			try (ResultSet rs = dead.createStatement().executeQuery("SELECT pg_backend_pid()")) {
				rs.next();
				pid = rs.getInt(1);
			}
			statement.execute("SELECT pg_terminate_backend(" + pid + ")");
			await().until(() -> {
				try (ResultSet rs = statement
					.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE pid = " + pid)) {
					rs.next();
					return rs.getInt(1) == 0;
				}
			});
			AtomicInteger closed = new AtomicInteger();
			NotificationListener listener = new NotificationListener(new AbstractDataSource() {
				@Override
				public Connection getConnection() {
					return counting(dead, closed);
				}

				@Override
				public Connection getConnection(String username, String password) {
					return getConnection();
				}
			}, AuditSchema.of("public.keel_audit", "public"), Duration.ofMillis(10));

			listener.await(new CountDownLatch(1));

			assertThat(listener.listening()).isFalse();
			assertThat(closed).hasValue(1);
		}
	}

	private static Connection counting(Connection target, AtomicInteger closed) {
		return (Connection) Proxy.newProxyInstance(NotificationListenerTests.class.getClassLoader(),
				new Class<?>[] { Connection.class }, (proxy, method, args) -> {
					if (method.getName().equals("close")) {
						closed.incrementAndGet();
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
