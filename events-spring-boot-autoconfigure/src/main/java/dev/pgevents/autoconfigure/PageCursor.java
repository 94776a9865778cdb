package dev.pgevents.autoconfigure;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Base64;

import dev.pgevents.DeliveryQuery;

/**
 * A position in the ledger's order as the endpoint's {@code next} and {@code after}: an
 * opaque token that is safe in a URL.
 */
final class PageCursor {

	private PageCursor() {
	}

	static String encode(DeliveryQuery.Position position) {
		String plain = position.createdAt() + "\n" + position.eventId() + "\n" + position.subscriber();
		return Base64.getUrlEncoder().withoutPadding().encodeToString(plain.getBytes(StandardCharsets.UTF_8));
	}

	static DeliveryQuery.Position decode(String cursor) {
		try {
			String[] parts = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8).split("\n", 3);
			if (parts.length == 3) {
				return new DeliveryQuery.Position(Instant.parse(parts[0]), parts[1], parts[2]);
			}
		}
		catch (IllegalArgumentException | DateTimeParseException ex) {
			// reported below
		}
		throw EventsEndpoint.invalid("\"after\" is '" + cursor + "', not the \"next\" of a page of deliveries");
	}

}
