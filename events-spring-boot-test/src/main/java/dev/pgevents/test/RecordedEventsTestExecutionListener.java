package dev.pgevents.test;

import org.springframework.test.context.TestContext;
import org.springframework.test.context.support.AbstractTestExecutionListener;

/**
 * Starts the recording of {@link RecordedEvents} again before each test method, before a
 * test-managed transaction begins and before {@code @BeforeEach} methods run (what they
 * write is recorded).
 */
public final class RecordedEventsTestExecutionListener extends AbstractTestExecutionListener {

	/**
	 * Before {@code TransactionalTestExecutionListener} (4000) and {@code @Sql} (5000).
	 */
	private static final int ORDER = 3900;

	@Override
	public int getOrder() {
		return ORDER;
	}

	@Override
	public void beforeTestMethod(TestContext testContext) {
		if (testContext.hasApplicationContext()) {
			testContext.getApplicationContext()
				.getBeanProvider(RecordedEvents.class)
				.ifAvailable(RecordedEvents::clear);
		}
	}

}
