package com.ecloud.compute.api.ingress;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The ingress gateway. The platform tells it when a container's rules or reachability change; it then reads
 * the rules from the {@code IngressStore} and reaches the container through its runtime's
 * {@code expose} endpoint. Changes take effect at once.
 */
@ProviderType
public interface IngressRouter {

    /** The rules of a container, or whether it runs, changed (or it was deleted). */
    void refresh(String containerId);
}
