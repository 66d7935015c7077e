package com.ecloud.compute.gateway.internal.proxy;

import java.time.Duration;

/** Limits and timeouts of the proxy, from the gateway's configuration. */
public record ProxySettings(int maxHeaderBytes, long maxBodyBytes, Duration connectTimeout, Duration responseTimeout,
        Duration idleTimeout, int maxIdleBackendConnections) {

    public ProxySettings {
        if (maxHeaderBytes < 256) throw new IllegalArgumentException("maxHeaderBytes must be at least 256");
        if (maxBodyBytes < 0) throw new IllegalArgumentException("maxBodyBytes must not be negative");
        requirePositive(connectTimeout, "connectTimeout");
        requirePositive(responseTimeout, "responseTimeout");
        requirePositive(idleTimeout, "idleTimeout");
        if (maxIdleBackendConnections < 0) throw new IllegalArgumentException("maxIdleBackendConnections must not be negative");
    }

    /** 8 KiB headers, 100 MiB bodies, 5 s connect, 60 s response and idle, 32 idle connections per backend. */
    public static ProxySettings defaults() {
        return new ProxySettings(8192, 100L * 1024 * 1024, Duration.ofSeconds(5), Duration.ofSeconds(60),
                Duration.ofSeconds(60), 32);
    }

    private static void requirePositive(Duration d, String name) {
        if (d == null || d.isNegative() || d.isZero()) throw new IllegalArgumentException(name + " must be positive");
    }
}
