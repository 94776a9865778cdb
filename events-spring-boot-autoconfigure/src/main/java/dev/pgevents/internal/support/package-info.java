/**
 * What capture, dispatch, forwarding and the auto-configuration share: a startup failure
 * that names its fix, and a log that says a repeated failure once in a while. Internal:
 * not an API.
 */
@NullMarked
package dev.pgevents.internal.support;

import org.jspecify.annotations.NullMarked;
