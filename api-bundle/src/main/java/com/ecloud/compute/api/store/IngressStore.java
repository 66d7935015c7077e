package com.ecloud.compute.api.store;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

import com.ecloud.compute.api.model.IngressRule;

/** Ingress rules of containers. Every method is one transaction. */
@ProviderType
public interface IngressStore {

    /**
     * Adds a rule.
     *
     * @throws ConflictException the container already has a rule on that port, or no longer exists
     */
    IngressRule add(String containerId, int port, int targetPort);

    /** The container's rules, by port. */
    List<IngressRule> list(String containerId);

    /** Every rule (for the gateway). */
    List<IngressRule> listAll();

    /** Removes the container's rule on {@code port}; false when there was none. */
    boolean delete(String containerId, int port);
}
