/**
 * Capture: the audit schema and triggers, and the transaction hook that records who
 * changed what under which trace. Internal: not an API.
 */
@NullMarked
package dev.pgevents.internal.capture;

import org.jspecify.annotations.NullMarked;
