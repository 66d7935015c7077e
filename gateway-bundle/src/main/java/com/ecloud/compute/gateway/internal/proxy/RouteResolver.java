package com.ecloud.compute.gateway.internal.proxy;

/** Where a request goes; called on a Netty event loop for every request head: must be fast, never block. */
@FunctionalInterface
public interface RouteResolver {
    /**
     * @param host         the request's host name: Host header without port, lower-case, no trailing dot
     * @param externalPort the external port the listener stands for (80, 443, 8000-8999)
     * @param tls          whether the request came over TLS
     */
    Route resolve(String host, int externalPort, boolean tls);
}
