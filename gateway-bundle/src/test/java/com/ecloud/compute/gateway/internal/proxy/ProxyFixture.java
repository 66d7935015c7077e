package com.ecloud.compute.gateway.internal.proxy;

import java.time.Duration;

/** A ProxyServer with one plain listener on an ephemeral port standing for external port 8080. */
final class ProxyFixture implements AutoCloseable {
    static final int EXTERNAL_PORT = 8080;
    final ProxyServer server;
    final ProxyServer.Listener listener;

    ProxyFixture(ProxySettings settings, RouteResolver resolver) {
        server = new ProxyServer(settings, resolver, 2);
        listener = server.listen("127.0.0.1", 0, EXTERNAL_PORT, null);
    }

    ProxyFixture(RouteResolver resolver) {
        this(ProxySettings.defaults(), resolver);
    }

    int port() {
        return listener.hostPort();
    }

    static ProxySettings settings(int maxHeaderBytes, long maxBodyBytes, Duration responseTimeout, Duration idleTimeout, int maxIdle) {
        return new ProxySettings(maxHeaderBytes, maxBodyBytes, Duration.ofSeconds(2), responseTimeout, idleTimeout, maxIdle);
    }

    @Override
    public void close() {
        server.close();
    }
}
