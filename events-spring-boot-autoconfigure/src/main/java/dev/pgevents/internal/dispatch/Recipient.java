package dev.pgevents.internal.dispatch;

import dev.pgevents.internal.support.StartupFailure;

/**
 * Where a subscriber's events go: a bean method, or a broker a forwarding route sends
 * them to; names the declaration in errors.
 */
sealed interface Recipient permits SubscriberMethod, ForwardingRoute {

	/**
	 * Describe the declaration, for messages.
	 * @return the description
	 */
	String describe();

	/**
	 * The startup failure for a declaration that cannot work.
	 * @param problem what is wrong
	 * @return the failure to throw
	 */
	StartupFailure invalid(String problem);

}
