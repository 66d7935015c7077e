package com.ecloud.compute.core.internal.lifecycle;

import java.util.List;

import com.ecloud.compute.api.model.InstanceType;

/** A validated create request, defaults applied. */
public record ContainerRequest(String name, InstanceType instanceType, int memoryMb, int storageGb,
        List<Long> sshKeyIds, boolean sshEnabled, List<String> mountPaths, String image) {

    public ContainerRequest {
        sshKeyIds = List.copyOf(sshKeyIds);
        mountPaths = List.copyOf(mountPaths);
    }
}
