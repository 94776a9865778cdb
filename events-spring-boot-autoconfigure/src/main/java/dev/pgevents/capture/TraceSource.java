package dev.pgevents.capture;

/**
 * Supplies the trace of the transaction that is beginning.
 */
@FunctionalInterface
public interface TraceSource {

	/**
	 * The current trace, or a new one when there is none.
	 * @return the trace
	 */
	Trace currentTrace();

}
