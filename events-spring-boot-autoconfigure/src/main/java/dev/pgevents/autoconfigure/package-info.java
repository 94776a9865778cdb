/**
 * Auto-configuration of change events, and its properties.
 */
@NullMarked
package dev.pgevents.autoconfigure;

import org.jspecify.annotations.NullMarked;
