package com.ecloud.compute.api.runtime;

import java.time.Instant;

/**
 * The engine's view of one container.
 *
 * @param containerId the platform's id
 * @param phase       created, running or exited
 * @param exitCode    exit code of the main process once exited; null otherwise
 * @param reason      why it exited when the engine knows ("out of memory", an engine error); null otherwise
 * @param oomKilled   whether the kernel killed it for exceeding its memory limit
 * @param startedAt   when it last started; null if never
 * @param finishedAt  when it last exited; null if never
 */
public record RuntimeState(String containerId, Phase phase, Integer exitCode, String reason, boolean oomKilled,
        Instant startedAt, Instant finishedAt) {

    /** The phases every engine can report. */
    public enum Phase {
        /** Created and never started. */
        CREATED,
        /** Its main process runs. */
        RUNNING,
        /** It ran and stopped (exited, was stopped, or was killed). */
        EXITED
    }

    public boolean running() {
        return phase == Phase.RUNNING;
    }
}
