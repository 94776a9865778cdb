/**
 * The seam between the starter and its test kit ({@code events-spring-boot-test}):
 * {@link dev.pgevents.kit.EventLog}, which the kit records and waits on. Supported for
 * the kit, and for tools that look at what was captured and delivered; an application's
 * code uses the API of {@code dev.pgevents}.
 */
@NullMarked
package dev.pgevents.kit;

import org.jspecify.annotations.NullMarked;
