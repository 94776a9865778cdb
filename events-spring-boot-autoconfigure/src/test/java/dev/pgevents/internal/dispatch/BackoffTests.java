package dev.pgevents.internal.dispatch;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class BackoffTests {

	private final Backoff backoff = new Backoff(5, Duration.ofSeconds(1), 2, Duration.ofSeconds(5));

	@Test
	void delaysGrowByTheMultiplierWithJitterDownToHalf() {
		for (int i = 0; i < 200; i++) {
			assertThat(this.backoff.delayAfter(1)).isBetween(Duration.ofMillis(500), Duration.ofSeconds(1));
			assertThat(this.backoff.delayAfter(2)).isBetween(Duration.ofSeconds(1), Duration.ofSeconds(2));
			assertThat(this.backoff.delayAfter(3)).isBetween(Duration.ofSeconds(2), Duration.ofSeconds(4));
		}
	}

	@Test
	void delaysAreCappedAtTheMaximum() {
		for (int i = 0; i < 200; i++) {
			assertThat(this.backoff.delayAfter(30)).isBetween(Duration.ofMillis(2500), Duration.ofSeconds(5));
			assertThat(this.backoff.delayAfter(10_000)).isBetween(Duration.ofMillis(2500), Duration.ofSeconds(5));
		}
	}

	@Test
	void theLastAttemptExhaustsIt() {
		assertThat(this.backoff.exhausted(4)).isFalse();
		assertThat(this.backoff.exhausted(5)).isTrue();
	}

}
