package com.ecloud.compute.api.event;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Whiteboard listener for container status changes: register a service of this type and the platform calls
 * it after every change is stored. It must return quickly and never throw; events of one container arrive in
 * order.
 */
@ConsumerType
public interface ContainerEventListener {

    void onContainerEvent(ContainerEvent event);
}
