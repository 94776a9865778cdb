/**
 * Flyway support: a migration that installs the audit schema for the application's
 * audited tables.
 */
@NullMarked
package dev.pgevents.flyway;

import org.jspecify.annotations.NullMarked;
