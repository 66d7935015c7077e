package com.ecloud.compute.api.event;

import java.time.Instant;

import com.ecloud.compute.api.model.ContainerStatus;

/**
 * A container changed status.
 *
 * @param containerId  the container
 * @param ownerId      its owner (listeners filter on it)
 * @param status       the new status
 * @param statusReason why, when failed or stopped by a limit; null otherwise
 * @param externalIp   the address its ports are reached at, when running; null otherwise
 * @param at           when the platform recorded the change
 */
public record ContainerEvent(String containerId, String ownerId, ContainerStatus status, String statusReason,
        String externalIp, Instant at) {
}
