package dev.pgevents;

import org.jspecify.annotations.Nullable;

/**
 * Supplies the trace of the transaction that is beginning.
 */
@FunctionalInterface
public interface TraceSource {

	/**
	 * The current trace, if any. A transaction that begins under none gets a trace from
	 * the database, derived from its transaction id: every row it writes shares it.
	 * @return the trace, or {@code null} when there is none
	 */
	@Nullable Trace currentTrace();

}
