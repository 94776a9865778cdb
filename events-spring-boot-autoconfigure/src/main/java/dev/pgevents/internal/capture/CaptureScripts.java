package dev.pgevents.internal.capture;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.springframework.core.io.ClassPathResource;
import org.springframework.util.StreamUtils;

/**
 * The SQL scripts shipped under {@code dev/pgevents/capture/}, one statement per file,
 * with placeholders that {@link AuditSchema#render} fills.
 */
public final class CaptureScripts {

	private static final String LOCATION = "dev/pgevents/capture/";

	private static final List<String> ALL = List.of("audit-table", "audit-pending-index", "delivery-table",
			"delivery-due-index", "delivery-row-key", "delivery-row-index", "audit-order-index", "subscriber-table",
			"instance-table", "capture-function", "capture-function-grant", "pending-function",
			"ordered-pending-function", "audit-causation", "capture-trigger", "notice-function", "notice-trigger");

	private CaptureScripts() {
	}

	/**
	 * The text of every script as it is before rendering: what a new version of this
	 * library changes.
	 * @return the scripts, concatenated in a fixed order
	 */
	public static String sources() {
		StringBuilder sources = new StringBuilder();
		ALL.forEach((script) -> sources.append(read(script)));
		return sources.toString();
	}

	/**
	 * The scripts' names.
	 * @return each script's name, without {@code .sql}
	 */
	public static List<String> names() {
		return ALL;
	}

	/**
	 * One script, unrendered.
	 * @param script its name, without {@code .sql}
	 * @return its text
	 */
	static String read(String script) {
		String path = LOCATION + script + ".sql";
		try {
			return StreamUtils.copyToString(new ClassPathResource(path).getInputStream(), StandardCharsets.UTF_8);
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Cannot read " + path, ex);
		}
	}

}
