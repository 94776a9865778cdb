/**
 * Delivery: the after-commit dispatch, the relay, the fan-out to subscribers, the
 * subscriber registry and invocation, the delivery ledger. Internal: not an API.
 */
@NullMarked
package dev.pgevents.internal.dispatch;

import org.jspecify.annotations.NullMarked;
