package dev.pgevents.autoconfigure;

import io.micrometer.tracing.TraceContext;
import io.micrometer.tracing.Tracer;

import dev.pgevents.capture.Trace;
import dev.pgevents.capture.TraceSource;

/**
 * The current Micrometer Tracing span, or a new trace when there is none.
 */
final class MicrometerTraceSource implements TraceSource {

	private final Tracer tracer;

	MicrometerTraceSource(Tracer tracer) {
		this.tracer = tracer;
	}

	@Override
	public Trace currentTrace() {
		TraceContext context = this.tracer.currentTraceContext().context();
		return (context != null) ? new Trace(context.traceId(), context.spanId()) : Trace.random();
	}

}
