package dev.pgevents.internal.dispatch;

import java.util.Locale;

import dev.pgevents.Delivery;

/**
 * The values of the ledger's {@code status} column, one per {@link Delivery.Status}: the
 * SQL in this package names them through these constants (and delivery-table.sql and
 * delivery-due-index.sql spell {@code 'pending'}).
 */
final class LedgerStatus {

	static final String PENDING = of(Delivery.Status.PENDING);

	static final String DELIVERED = of(Delivery.Status.DELIVERED);

	static final String DEAD = of(Delivery.Status.DEAD);

	static final String SKIPPED = of(Delivery.Status.SKIPPED);

	private LedgerStatus() {
	}

	static String of(Delivery.Status status) {
		return status.name().toLowerCase(Locale.ROOT);
	}

	static Delivery.Status parse(String value) {
		return Delivery.Status.valueOf(value.toUpperCase(Locale.ROOT));
	}

}
