/**
 * Change events from PostgreSQL, delivered to Spring beans after commit: the public API.
 */
@NullMarked
package dev.pgevents;

import org.jspecify.annotations.NullMarked;
