package com.ecloud.compute.runtime.lxd.internal;

import java.util.Arrays;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Set;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;

import com.ecloud.compute.api.model.Arch;
import com.ecloud.compute.api.runtime.ContainerRuntime;

/**
 * Registers the runtime as a {@link ContainerRuntime} service itself, because its {@code runtime.arch} property
 * is learnt from LXD after activation (DS would only publish the configuration's properties). Registered at once
 * with the arches known so far (none before LXD answered), updated when they change.
 */
final class ServicePublisher {

    private final BundleContext context;
    private ServiceRegistration<ContainerRuntime> registration;
    private String[] publishedArches;

    ServicePublisher(BundleContext context) {
        this.context = context;
    }

    synchronized void publish(ContainerRuntime runtime, Set<Arch> arches) {
        String[] archIds = arches.stream().map(Arch::id).sorted().toArray(String[]::new);
        if (registration != null && Arrays.equals(archIds, publishedArches)) return;
        Dictionary<String, Object> properties = new Hashtable<>();
        properties.put(ContainerRuntime.TYPE, runtime.type());
        properties.put(ContainerRuntime.HOST, runtime.host());
        properties.put(ContainerRuntime.ARCH, archIds);
        properties.put("service.description", "LXD " + runtime.host());
        if (registration == null) {
            registration = context.registerService(ContainerRuntime.class, runtime, properties);
        } else {
            registration.setProperties(properties);
        }
        publishedArches = archIds;
    }

    synchronized void withdraw() {
        if (registration == null) return;
        try {
            registration.unregister();
        } catch (IllegalStateException alreadyGone) {
            // the bundle is stopping and the framework unregistered it first
        }
        registration = null;
    }
}
