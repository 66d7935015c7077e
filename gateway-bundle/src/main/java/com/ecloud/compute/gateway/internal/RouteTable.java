package com.ecloud.compute.gateway.internal;

import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

import com.ecloud.compute.api.model.ContainerStatus;
import com.ecloud.compute.api.runtime.HostEndpoint;
import com.ecloud.compute.gateway.internal.proxy.Route;
import com.ecloud.compute.gateway.internal.proxy.RouteResolver;

/**
 * What the gateway knows of each container with ingress rules, read on the proxy's event loops for every request
 * (a map lookup: nothing blocks there) and replaced whole, per container, when the platform says it changed.
 */
final class RouteTable implements RouteResolver {

    /** A container's routes: its status, its rules (external port -> target port), and the endpoints reached. */
    record ContainerRoutes(String containerId, ContainerStatus status, Map<Integer, Integer> targetByPort,
            Map<Integer, HostEndpoint> endpointByTarget) {

        ContainerRoutes {
            targetByPort = Map.copyOf(targetByPort);
            endpointByTarget = Map.copyOf(endpointByTarget);
        }
    }

    static final int HTTP = 80;
    static final int HTTPS = 443;

    private final String apiHost;
    private final String containerSuffix;
    private final HostEndpoint api;
    private final Map<String, ContainerRoutes> routes = new ConcurrentHashMap<>();

    /**
     * @param domain the platform's domain: containers are {@code <id>.compute.<domain>}, the API
     *               {@code compute.<domain>}
     * @param api    where the platform's own HTTP API listens, served at {@code compute.<domain>} on 80 and 443;
     *               null: not through the gateway
     */
    RouteTable(String domain, HostEndpoint api) {
        String d = normalise(domain);
        this.apiHost = "compute." + d;
        this.containerSuffix = ".compute." + d;
        this.api = api;
    }

    /** Replaces what is known of one container; null forgets it (deleted, or no rules left). */
    void put(String containerId, ContainerRoutes containerRoutes) {
        if (containerRoutes == null || containerRoutes.targetByPort().isEmpty()) {
            routes.remove(containerId);
        } else {
            routes.put(containerId, containerRoutes);
        }
    }

    ContainerRoutes get(String containerId) {
        return routes.get(containerId);
    }

    /** External ports some rule uses, in order. */
    Set<Integer> portsInUse() {
        Set<Integer> ports = new TreeSet<>();
        for (ContainerRoutes r : routes.values()) ports.addAll(r.targetByPort().keySet());
        return ports;
    }

    /** {@code host} comes normalised (lower case, no port, no trailing dot): see {@link RouteResolver}. */
    @Override
    public Route resolve(String host, int externalPort, boolean tls) {
        String name = host;
        if (name.equals(apiHost)) {
            if (api != null && (externalPort == HTTP || externalPort == HTTPS)) {
                return new Route.Backend(api.host(), api.port());
            }
            return new Route.Refusal(404, "the API of " + apiHost + " is served on ports 80 and 443 only");
        }
        if (!name.endsWith(containerSuffix) || name.length() == containerSuffix.length()) {
            return new Route.Refusal(404, "no such host: " + name);
        }
        String id = name.substring(0, name.length() - containerSuffix.length());
        ContainerRoutes r = routes.get(id);
        if (r == null) {
            return new Route.Refusal(404, "no container " + id + " with ingress rules here");
        }
        Integer target = r.targetByPort().get(externalPort);
        if (target == null) {
            return new Route.Refusal(404, "container " + id + " has no ingress rule for port " + externalPort);
        }
        if (r.status() != ContainerStatus.RUNNING) {
            return new Route.Refusal(503, "container " + id + " is " + r.status().name().toLowerCase(Locale.ROOT));
        }
        HostEndpoint endpoint = r.endpointByTarget().get(target);
        if (endpoint == null) {
            return new Route.Refusal(502, "port " + target + " of container " + id + " cannot be reached");
        }
        return new Route.Backend(endpoint.host(), endpoint.port());
    }

    private static String normalise(String domain) {
        String h = domain == null ? "" : domain.trim().toLowerCase(Locale.ROOT);
        return h.endsWith(".") ? h.substring(0, h.length() - 1) : h;
    }
}
