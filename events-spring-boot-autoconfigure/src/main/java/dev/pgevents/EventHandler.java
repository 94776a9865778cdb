package dev.pgevents;

/**
 * Delivers one event to one subscriber. The auto-configured handler calls the
 * {@link EventSubscriber} method of that name; define a bean of this type to deliver
 * elsewhere instead (for example to a message broker), and the default backs off.
 * <p>
 * A handler that throws leaves the event undelivered for that subscriber only: it is
 * retried later and never breaks the transaction that made the change.
 */
@FunctionalInterface
public interface EventHandler {

	/**
	 * Deliver {@code event} to {@code subscriber}.
	 * @param subscriber the subscriber name (see {@link EventSubscriber#name()})
	 * @param event the event
	 * @param traceparent the W3C {@code traceparent} of the transaction that made the
	 * change
	 * @throws Exception when delivery failed and should be retried
	 */
	void handle(String subscriber, Event event, String traceparent) throws Exception;

}
