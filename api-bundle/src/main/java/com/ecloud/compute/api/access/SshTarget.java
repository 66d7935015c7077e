package com.ecloud.compute.api.access;

import java.util.List;

import com.ecloud.compute.api.model.ContainerStatus;

/**
 * What the SSH gateway needs to let a key into a container.
 *
 * @param containerId    the container
 * @param ownerId        its owner's user id
 * @param status         its status now
 * @param sshEnabled     whether its owner allows SSH into it
 * @param authorizedKeys the public key lines (OpenSSH format) of its ssh_key_ids that are still in its owner's
 *                       account: a key deleted from the account is not among them
 */
public record SshTarget(String containerId, String ownerId, ContainerStatus status, boolean sshEnabled,
        List<String> authorizedKeys) {

    public SshTarget {
        authorizedKeys = List.copyOf(authorizedKeys);
    }
}
