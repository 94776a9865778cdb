package dev.pgevents;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import dev.pgevents.internal.dispatch.EventSubscriberHints;

import org.springframework.aot.hint.annotation.Reflective;

/**
 * Marks a bean method that is called once per committed row change of the named events.
 * <pre class="code">
 * &#64;EventSubscriber("member.created")
 * void verifyEmail(Member member, Event event) { ... }
 * </pre> The method may take, in any order: an {@link Event}, an {@link EventTarget}, and
 * one parameter of another type that is bound from {@code target.data} with the
 * application's {@code JsonMapper} (a record or bean whose properties are the
 * lowerCamelCase column names, or a {@code Map}). A method that throws is retried; it
 * never breaks the transaction that made the change.
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Reflective(EventSubscriberHints.class)
public @interface EventSubscriber {

	/**
	 * Event names, each <em>table</em>{@code .created}, <em>table</em>{@code .updated} or
	 * <em>table</em>{@code .deleted} (for example {@code member.created}; a table outside
	 * the application's schema with its schema: {@code billing.invoice.created}), or a
	 * pattern: <em>table</em>{@code .*} for the created, updated and deleted events of
	 * one table, {@code *.deleted} (and so on) for one operation of every audited table
	 * (those named by subscribers and {@code events.audit.tables}). Also
	 * <em>table</em>{@code .truncated}, and <em>table</em>{@code .snapshot}: a row as it
	 * is, sent by {@link EventDeliveries#backfill} to this subscriber alone.
	 * @return the event names
	 */
	String[] value();

	/**
	 * Subscriber name, unique in the application; deliveries are tracked by it, so keep
	 * it stable across releases. Defaults to the method name.
	 * @return the subscriber name
	 */
	String name() default "";

	/**
	 * Fields (as in {@code target.data}, lowerCamelCase) of which an update must change
	 * at least one for the subscriber to be called; the subscriber's created and deleted
	 * events are not filtered. Empty: every update. A field that no updated table of the
	 * subscriber has fails the startup.
	 * @return the fields
	 */
	String[] changed() default {};

	/**
	 * A SpEL condition on the {@link Event} (the root object), for example
	 * {@code target.data['status'] == 'SHIPPED'}: the subscriber is called only when it
	 * is true. Parsed at startup (a syntax error fails it); an event it filters out
	 * counts as handled (no ledger entry, no retry), and a condition that cannot be
	 * evaluated fails the delivery like the subscriber would. Empty: every event.
	 * @return the condition
	 */
	String condition() default "";

	/**
	 * Whether the subscriber takes each row's events in commit order, one call at a time
	 * per row (a row: one table's primary-key value): on every path (after commit, the
	 * relay, retries, replays, several instances), a row's event waits until the
	 * subscriber has taken that row's earlier events. While one of them waits for its
	 * retry, the row's later events wait behind it; once it is dead-lettered, the row is
	 * parked until the dead letter is replayed or skipped ({@link EventDeliveries}).
	 * Other rows are not held up. For projections (a search index, a cache, a read model)
	 * that must end with each row's latest state. Unordered by default: order holds back
	 * a row's later events.
	 * @return whether the subscriber takes each row's events in order
	 */
	boolean ordered() default false;

}
