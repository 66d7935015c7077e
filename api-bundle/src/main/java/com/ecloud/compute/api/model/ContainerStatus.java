package com.ecloud.compute.api.model;

import java.util.Locale;
import java.util.Optional;

/** The container state machine: pending -> initializing -> running, stopped, failed. */
public enum ContainerStatus {
    /** Accepted and stored; not yet placed on a host. */
    PENDING,
    /** Placed on a host; image, storage and keys are being prepared and the container started. */
    INITIALIZING,
    /** The container's main process runs. */
    RUNNING,
    /** Stopped by its owner, an operator or a limit, or its main process exited. */
    STOPPED,
    /** It could not be provisioned or started, or its runtime lost it; the status reason says why. */
    FAILED;

    /** The lower-case name used in the API. */
    public String id() { return name().toLowerCase(Locale.ROOT); }

    public static Optional<ContainerStatus> parse(String id) {
        for (ContainerStatus s : values()) {
            if (s.id().equals(id)) return Optional.of(s);
        }
        return Optional.empty();
    }
}
