package dev.pgevents;

/**
 * The default {@link EventHandler}: calls the {@link EventSubscriber} method of the
 * subscriber's name. It is a bean whether or not the application defines an
 * {@code EventHandler} of its own, so that one can decorate it (wrap every call, time it,
 * add context) or deliver some subscribers' events elsewhere and hand the rest to it:
 *
 * <pre class="code">
 * &#64;Bean
 * EventHandler eventHandler(SubscriberMethods methods, Broker broker) {
 *     return (subscriber, event, traceparent) -&gt; {
 *         if (subscriber.equals("forwardToBilling")) {
 *             broker.send("billing", event, traceparent);
 *         }
 *         else {
 *             methods.handle(subscriber, event, traceparent);
 *         }
 *     };
 * }
 * </pre>
 */
public interface SubscriberMethods extends EventHandler {

}
