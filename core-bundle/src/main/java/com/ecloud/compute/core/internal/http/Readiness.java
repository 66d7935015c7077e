package com.ecloud.compute.core.internal.http;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.ecloud.compute.api.access.ContainerAccess;
import com.ecloud.compute.api.runtime.ContainerRuntime;
import com.ecloud.compute.api.store.ContainerStore;

/**
 * Whether the platform can take work: its store is migrated (the store bundle registers {@link ContainerStore}
 * only after its migrations ran), the lifecycle runs on its configuration, and at least one runtime reports itself
 * healthy. Its own immediate component,
 * so that the tracking survives the REST whiteboard's reloads of {@link HealthResource}.
 */
@Component(service = Readiness.class)
public class Readiness {

    private static final Logger LOG = LoggerFactory.getLogger(Readiness.class);

    /**
     * @param ready  whether every check passes
     * @param checks check name -> what it found, in words (no host names or reasons: the probe needs no token)
     */
    public record Report(boolean ready, Map<String, String> checks) {
    }

    private volatile ContainerStore store;
    private final Set<ContainerRuntime> runtimes = ConcurrentHashMap.newKeySet();

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindStore(ContainerStore store) {
        this.store = store;
    }

    void unbindStore(ContainerStore store) {
        // a greedy rebind may already have replaced it
        if (this.store == store) this.store = null;
    }

    /** The WebSocket endpoints, present once they run with their configuration. */
    private volatile Object statusStream;
    private volatile Object containerStreams;

    @Reference(service = jakarta.servlet.Servlet.class, cardinality = ReferenceCardinality.OPTIONAL,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY,
            target = "(component.name=com.ecloud.compute.core.internal.ws.StatusStreamServlet)")
    void bindStatusStream(Object servlet) {
        this.statusStream = servlet;
    }

    void unbindStatusStream(Object servlet) {
        if (this.statusStream == servlet) this.statusStream = null;
    }

    @Reference(service = jakarta.servlet.Filter.class, cardinality = ReferenceCardinality.OPTIONAL,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY,
            target = "(component.name=com.ecloud.compute.core.internal.ws.streams.ContainerStreamsFilter)")
    void bindContainerStreams(Object filter) {
        this.containerStreams = filter;
    }

    void unbindContainerStreams(Object filter) {
        if (this.containerStreams == filter) this.containerStreams = null;
    }

    /** Present once the lifecycle runs with its configuration (the gateways' access needs it). */
    private volatile ContainerAccess lifecycle;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindLifecycle(ContainerAccess access) {
        this.lifecycle = access;
    }

    void unbindLifecycle(ContainerAccess access) {
        if (this.lifecycle == access) this.lifecycle = null;
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void bindRuntime(ContainerRuntime runtime) {
        runtimes.add(runtime);
    }

    void unbindRuntime(ContainerRuntime runtime) {
        runtimes.remove(runtime);
    }

    /** Checks now; cheap (runtimes cache their fingerprint). */
    public Report check() {
        Map<String, String> checks = new LinkedHashMap<>();
        boolean storeReady = store != null;
        checks.put("store", storeReady ? "ok" : "not available");
        boolean lifecycleReady = lifecycle != null;
        checks.put("lifecycle", lifecycleReady ? "ok" : "not configured yet");
        boolean socketsReady = statusStream != null && containerStreams != null;
        checks.put("websockets", socketsReady ? "ok" : "not configured yet");
        int total = 0;
        int healthy = 0;
        for (ContainerRuntime runtime : runtimes) {
            total++;
            if (isHealthy(runtime)) healthy++;
        }
        checks.put("runtimes", total == 0 ? "none registered" : healthy + " of " + total + " healthy");
        return new Report(storeReady && lifecycleReady && socketsReady && healthy > 0, checks);
    }

    private static boolean isHealthy(ContainerRuntime runtime) {
        try {
            return runtime.fingerprint().healthy();
        } catch (RuntimeException e) {
            // a broken runtime makes the platform less ready, never the probe fail
            LOG.warn("readiness: fingerprint of a runtime failed", e);
            return false;
        }
    }
}
