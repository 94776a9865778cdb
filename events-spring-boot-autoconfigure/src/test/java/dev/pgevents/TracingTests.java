package dev.pgevents;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import brave.handler.MutableSpan;
import brave.handler.SpanHandler;
import brave.propagation.TraceContext;
import io.micrometer.tracing.Span;
import io.micrometer.tracing.Tracer;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * With Micrometer Tracing (Brave here), each subscriber call runs in a span that
 * continues the trace of the transaction that wrote the row, after commit and on a retry
 * by the relay alike, and the subscriber's log lines carry that trace id.
 */
class TracingTests {

	@Test
	void theSubscriberCallContinuesTheWritingTraceAfterCommitAndOnARetry() {
		try (ConfigurableApplicationContext context = new SpringApplicationBuilder(App.class)
			.properties("spring.datasource.url=" + TestDatabase.create(), TestApplications.SQL_INIT,
					TestApplications.MEMBER_SCHEMA, "spring.main.banner-mode=off",
					"management.tracing.sampling.probability=1.0", "events.relay.poll-interval=100ms",
					"events.retry.initial-delay=10ms")
			.run()) {
			Tracer tracer = context.getBean(Tracer.class);
			Subscriber subscriber = context.getBean(Subscriber.class);
			Spans spans = context.getBean(Spans.class);
			JdbcTemplate jdbc = context.getBean(JdbcTemplate.class);
			Span write = tracer.nextSpan().name("write").start();
			try (Tracer.SpanInScope scope = tracer.withSpan(write)) {
				context.getBean(TransactionTemplate.class)
					.executeWithoutResult(
							(status) -> jdbc.update("INSERT INTO member (name, email) VALUES ('t', 't')"));
			}
			finally {
				write.end();
			}

			// the first call fails after commit, the second is the relay's retry
			await().atMost(Duration.ofSeconds(30)).until(() -> subscriber.traceIds.size() == 2);
			assertThat(subscriber.traceIds).containsOnly(write.context().traceId());
			await().atMost(Duration.ofSeconds(30)).until(() -> spans.named("member.created traced").size() == 2);
			assertThat(spans.named("member.created traced")).allSatisfy((span) -> {
				assertThat(span.traceId()).isEqualTo(write.context().traceId());
				assertThat(span.parentId()).isEqualTo(write.context().spanId());
			});
			assertThat(spans.named("member.created traced")).extracting((span) -> span.tag("path"))
				.containsExactly("dispatch", "retry");
		}
	}

	static class Subscriber {

		final List<String> traceIds = new CopyOnWriteArrayList<>();

		@EventSubscriber("member.created")
		void traced(Event event) {
			this.traceIds.add(String.valueOf(MDC.get("traceId")));
			if (this.traceIds.size() == 1) {
				throw new IllegalStateException("first attempt fails");
			}
		}

	}

	static class Spans extends SpanHandler {

		final List<MutableSpan> ended = new CopyOnWriteArrayList<>();

		@Override
		public boolean end(TraceContext context, MutableSpan span, Cause cause) {
			this.ended.add(span);
			return true;
		}

		List<MutableSpan> named(String name) {
			return this.ended.stream().filter((span) -> name.equals(span.name())).toList();
		}

	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class App {

		@Bean
		Subscriber subscriber() {
			return new Subscriber();
		}

		@Bean
		Spans spans() {
			return new Spans();
		}

	}

}
