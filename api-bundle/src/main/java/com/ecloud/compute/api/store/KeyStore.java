package com.ecloud.compute.api.store;

import java.util.Collection;
import java.util.List;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

import com.ecloud.compute.api.model.SshKey;

/** Users' SSH public keys. Every method is one transaction. */
@ProviderType
public interface KeyStore {

    /**
     * Adds a key unless its owner already has {@code maxPerOwner} keys (count and insert are atomic).
     *
     * @throws LimitExceededException the owner is at the limit
     * @throws ConflictException      the owner already has a key with that fingerprint
     */
    SshKey add(String ownerId, String name, String publicKey, String fingerprint, int maxPerOwner);

    /** The owner's keys, oldest first. */
    List<SshKey> list(String ownerId);

    /** The key if {@code ownerId} owns it. */
    Optional<SshKey> find(String ownerId, long id);

    /** Those of {@code ids} that {@code ownerId} owns. */
    List<SshKey> findAll(String ownerId, Collection<Long> ids);

    /** The keys attached to a container (what its authorized_keys holds). */
    List<SshKey> attachedTo(String containerId);

    /**
     * Deletes the owner's key and detaches it from every container that used it (revoking it there).
     *
     * @return the ids of the containers it was attached to; empty when the owner has no such key
     */
    Optional<List<String>> delete(String ownerId, long id);
}
