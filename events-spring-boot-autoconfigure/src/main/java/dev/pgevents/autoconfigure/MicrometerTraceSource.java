package dev.pgevents.autoconfigure;

import io.micrometer.tracing.TraceContext;
import io.micrometer.tracing.Tracer;
import org.jspecify.annotations.Nullable;

import dev.pgevents.Trace;
import dev.pgevents.TraceSource;

/**
 * The current Micrometer Tracing span, if any.
 */
final class MicrometerTraceSource implements TraceSource {

	private final Tracer tracer;

	MicrometerTraceSource(Tracer tracer) {
		this.tracer = tracer;
	}

	@Override
	public @Nullable Trace currentTrace() {
		TraceContext context = this.tracer.currentTraceContext().context();
		return (context != null) ? new Trace(context.traceId(), context.spanId()) : null;
	}

}
