package dev.pgevents.internal.capture;

import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

import org.jspecify.annotations.Nullable;

import dev.pgevents.EventSchemaScript;

/**
 * The schema script of the running application, for migration tools that create their
 * changes themselves, outside the application's beans (Liquibase instantiates custom
 * changes by their class name). One application per class loader: when several start in
 * one, the last one started is used.
 */
public final class RunningSchemaScript {

	private static final AtomicReference<@Nullable Supplier<@Nullable EventSchemaScript>> SCRIPT = new AtomicReference<>();

	private RunningSchemaScript() {
	}

	/**
	 * Make an application's script the running one.
	 * @param script supplies the application's script when first asked, or {@code null}
	 * when it has none (the auto-configuration backed off)
	 */
	public static void register(Supplier<@Nullable EventSchemaScript> script) {
		SCRIPT.set(script);
	}

	/**
	 * Forget an application's script, unless another application registered since.
	 * @param script as registered
	 */
	public static void unregister(Supplier<@Nullable EventSchemaScript> script) {
		SCRIPT.compareAndSet(script, null);
	}

	/**
	 * The running application's script.
	 * @return the script, or empty when no application with the starter's
	 * auto-configuration is starting or running
	 */
	public static Optional<EventSchemaScript> script() {
		Supplier<@Nullable EventSchemaScript> script = SCRIPT.get();
		return (script != null) ? Optional.ofNullable(script.get()) : Optional.empty();
	}

}
