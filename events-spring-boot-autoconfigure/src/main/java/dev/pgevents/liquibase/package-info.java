/**
 * Liquibase support: a change that installs the audit schema for the application's
 * audited tables.
 */
@NullMarked
package dev.pgevents.liquibase;

import org.jspecify.annotations.NullMarked;
