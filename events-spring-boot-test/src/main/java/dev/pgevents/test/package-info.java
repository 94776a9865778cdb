/**
 * The test kit: {@link dev.pgevents.test.RecordedEvents} (the events a test committed,
 * and a wait until their delivery is done), AssertJ assertions on them,
 * {@link dev.pgevents.test.EventScenario} (a stimulus, then a wait for an event or a
 * delivery), and {@link dev.pgevents.test.TestEvents} (events for unit tests of
 * subscriber methods). Active in every {@code @SpringBootTest} of an application that has
 * the starter, once the kit is on the test classpath.
 */
@NullMarked
package dev.pgevents.test;

import org.jspecify.annotations.NullMarked;
