/**
 * Dispatch: SendEvents, the subscriber registry and invocation, the delivery ledger.
 * Internal: not an API.
 */
@NullMarked
package dev.pgevents.dispatch;

import org.jspecify.annotations.NullMarked;
