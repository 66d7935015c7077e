package com.ecloud.compute.api.store;

import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;

import org.osgi.annotation.versioning.ProviderType;

import com.ecloud.compute.api.model.Container;

/**
 * Containers, their mount paths and the SSH keys attached to them. Every method is one transaction.
 */
@ProviderType
public interface ContainerStore {

    /**
     * Inserts a new container unless its owner already has {@code maxPerOwner} containers. The count and the
     * insert are one atomic step: concurrent creates by one owner never pass the limit.
     *
     * @throws LimitExceededException the owner is at the limit; nothing was stored
     * @throws ConflictException      the id is taken, or an attached key does not exist or is not the owner's
     */
    Container create(Container container, int maxPerOwner);

    /** The container of that id, whoever owns it. */
    Optional<Container> find(String id);

    /** The container of that id if {@code ownerId} owns it; empty for another owner's container. */
    Optional<Container> findOwned(String ownerId, String id);

    /** The owner's containers, oldest first. */
    List<Container> listByOwner(String ownerId);

    /** Every container, oldest first (for the reconciler and operators). */
    List<Container> listAll();

    /**
     * Changes a container under a row lock: reads it, applies {@code change} and writes the result, in one
     * transaction. {@code change} may run more than once (on a serialization retry) and must have no side
     * effects; returning its argument unchanged writes nothing. The id, owner and creation time cannot change.
     * Mount paths are replaced; the attached keys are not changed (see {@link KeyStore#delete}).
     *
     * @return the container as written; empty when there is no such container
     */
    Optional<Container> update(String id, UnaryOperator<Container> change);

    /** Deletes the container with its mount paths, key attachments and ingress rules. */
    boolean delete(String id);
}
