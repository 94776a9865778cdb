package dev.pgevents;

import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A W3C trace context: the trace a transaction runs under, recorded with its changes.
 *
 * @param traceId 32 lower-case hex digits
 * @param spanId 16 lower-case hex digits
 */
public record Trace(String traceId, String spanId) {

	/**
	 * Start a new trace, for transactions that run under none.
	 * @return a random trace
	 */
	public static Trace random() {
		ThreadLocalRandom random = ThreadLocalRandom.current();
		HexFormat hex = HexFormat.of();
		return new Trace(hex.toHexDigits(random.nextLong()) + hex.toHexDigits(random.nextLong()),
				hex.toHexDigits(random.nextLong()));
	}

	/**
	 * The W3C {@code traceparent} header of this trace, sampled.
	 * @return {@code 00-<traceId>-<spanId>-01}
	 */
	public String traceparent() {
		return "00-" + this.traceId + "-" + this.spanId + "-01";
	}

}
