package com.ecloud.compute.api.runtime;

import java.util.List;
import java.util.Map;

import com.ecloud.compute.api.model.Arch;

/**
 * Everything a runtime needs to create a container.
 *
 * @param containerId    the platform's id (8 characters of [a-z0-9])
 * @param ownerId        the owning user, kept as a label
 * @param image          the engine's image reference for {@code arch}, already resolved by the platform
 * @param arch           the arch to run
 * @param cpuMillis      CPU limit in thousandths of a core
 * @param memoryMb       memory limit in MiB (no swap beyond it)
 * @param storageGb      cap of the container's storage in GiB
 * @param mountPaths     absolute paths kept on the container's storage across stop/start and re-creation
 * @param authorizedKeys OpenSSH public key lines for /root/.ssh/authorized_keys
 * @param labels         extra labels to set on the engine's object
 */
public record ContainerSpec(String containerId, String ownerId, String image, Arch arch, int cpuMillis,
        int memoryMb, int storageGb, List<String> mountPaths, List<String> authorizedKeys,
        Map<String, String> labels) {

    public ContainerSpec {
        mountPaths = List.copyOf(mountPaths);
        authorizedKeys = List.copyOf(authorizedKeys);
        labels = Map.copyOf(labels);
    }
}
