package dev.pgevents.internal.dispatch;

import java.lang.reflect.InvocationTargetException;
import java.time.Duration;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class FailureTests {

	private final Backoff backoff = new Backoff(3, Duration.ofSeconds(1), 2, Duration.ofMinutes(1));

	@Test
	void anErrorThrownByASubscriberMethodIsRecordedAsItselfNotAsTheReflectionWrapper() {
		DeliveryFailure failure = DeliveryFailure.of("s", new InvocationTargetException(new StackOverflowError("deep")),
				1, this.backoff);
		assertThat(failure.error()).isEqualTo("java.lang.StackOverflowError: deep");
		assertThat(failure.dead()).isFalse();
		assertThat(failure.delay()).isPositive();
	}

	@Test
	void theLastAttemptAndAnUnbindableEventAreDeadAtOnce() {
		assertThat(DeliveryFailure.of("s", new IllegalStateException("x"), 3, this.backoff).dead()).isTrue();
		DeliveryFailure unbindable = DeliveryFailure.of("s",
				new UnbindableEventException("no", new IllegalArgumentException()), 1, this.backoff);
		assertThat(unbindable.dead()).isTrue();
		assertThat(unbindable.delay()).isZero();
	}

	@Test
	void longMessagesAreCut() {
		DeliveryFailure failure = DeliveryFailure.of("s", new IllegalStateException("x".repeat(5000)), 1, this.backoff);
		assertThat(failure.error()).hasSize(2000).startsWith("java.lang.IllegalStateException: xxx");
	}

}
