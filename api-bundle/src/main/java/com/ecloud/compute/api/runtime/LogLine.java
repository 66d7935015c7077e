package com.ecloud.compute.api.runtime;

import java.time.Instant;

/**
 * One line of a container's log.
 *
 * @param timestamp when the engine received it (nanosecond precision where the engine has it)
 * @param stderr    whether it came from standard error
 * @param text      the line without its line terminator
 */
public record LogLine(Instant timestamp, boolean stderr, String text) {
}
