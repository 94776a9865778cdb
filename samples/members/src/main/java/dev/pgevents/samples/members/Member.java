package dev.pgevents.samples.members;

import java.time.Instant;
import java.util.UUID;

/** A row of {@code member}, as subscribers receive it. */
record Member(UUID id, String name, String email, Instant createdAt) {
}
