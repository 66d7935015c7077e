package com.ecloud.compute.api.runtime;

import java.time.Instant;

/**
 * A lifecycle event of one of the platform's containers, as the engine reports it.
 *
 * @param host        the runtime host it happened on
 * @param containerId the platform's id
 * @param kind        what happened
 * @param exitCode    exit code for {@link Kind#DIED}; null otherwise
 * @param at          when the engine saw it
 */
public record RuntimeEvent(String host, String containerId, Kind kind, Integer exitCode, Instant at) {

    /** The kinds every engine can report. */
    public enum Kind {
        /** The main process started. */
        STARTED,
        /** The main process ended (exit, stop, kill). */
        DIED,
        /** The kernel's OOM killer hit it; a DIED usually follows. */
        OOM,
        /** The engine's container was removed. */
        REMOVED,
        /** The event stream was (re)connected and events may have been missed: state must be re-read. */
        RESYNC
    }
}
