package com.ecloud.compute.api.model;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * A user's container as the platform stores it. Immutable; the {@code with...} methods return changed copies.
 *
 * @param id            8 characters of [a-z0-9], unique
 * @param ownerId       the user id (a token's {@code sub})
 * @param name          the user's label, 1-63 characters of [A-Za-z0-9._-]
 * @param status        where it is in the state machine
 * @param statusReason  why it failed or was stopped by a limit, in words a user can act on; null otherwise
 * @param instanceType  architecture and CPU limit
 * @param memoryMb      memory limit in MiB
 * @param storageGb     storage cap in GiB for its persistent paths and its own filesystem
 * @param sshEnabled    whether the SSH gateway lets its owner's keys in
 * @param httpsEnabled  whether it has an ingress rule on port 443
 * @param image         the image reference as the user gave it (or the default builtin)
 * @param mountPaths    absolute, normalised paths kept across stop/start and re-creation
 * @param sshKeyIds     ids of the owner's keys written to authorized_keys
 * @param runtimeHost   the runtime host it was placed on; null until scheduled
 * @param createdAt     when it was created
 */
public record Container(
        String id,
        String ownerId,
        String name,
        ContainerStatus status,
        String statusReason,
        InstanceType instanceType,
        int memoryMb,
        int storageGb,
        boolean sshEnabled,
        boolean httpsEnabled,
        String image,
        List<String> mountPaths,
        List<Long> sshKeyIds,
        String runtimeHost,
        Instant createdAt) {

    public Container {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(ownerId, "ownerId");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(instanceType, "instanceType");
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(createdAt, "createdAt");
        mountPaths = List.copyOf(mountPaths);
        sshKeyIds = List.copyOf(sshKeyIds);
    }

    /** A copy in {@code newStatus}; the reason is kept only where the caller gives one. */
    public Container withStatus(ContainerStatus newStatus, String reason) {
        return new Container(id, ownerId, name, newStatus, reason, instanceType, memoryMb, storageGb, sshEnabled,
                httpsEnabled, image, mountPaths, sshKeyIds, runtimeHost, createdAt);
    }

    public Container withRuntimeHost(String host) {
        return new Container(id, ownerId, name, status, statusReason, instanceType, memoryMb, storageGb, sshEnabled,
                httpsEnabled, image, mountPaths, sshKeyIds, host, createdAt);
    }

    public Container withSshEnabled(boolean enabled) {
        return new Container(id, ownerId, name, status, statusReason, instanceType, memoryMb, storageGb, enabled,
                httpsEnabled, image, mountPaths, sshKeyIds, runtimeHost, createdAt);
    }

    public Container withHttpsEnabled(boolean enabled) {
        return new Container(id, ownerId, name, status, statusReason, instanceType, memoryMb, storageGb, sshEnabled,
                enabled, image, mountPaths, sshKeyIds, runtimeHost, createdAt);
    }

    public Container withMountPaths(List<String> paths) {
        return new Container(id, ownerId, name, status, statusReason, instanceType, memoryMb, storageGb, sshEnabled,
                httpsEnabled, image, paths, sshKeyIds, runtimeHost, createdAt);
    }

    public Container withSshKeyIds(List<Long> keyIds) {
        return new Container(id, ownerId, name, status, statusReason, instanceType, memoryMb, storageGb, sshEnabled,
                httpsEnabled, image, mountPaths, keyIds, runtimeHost, createdAt);
    }
}
