package com.ecloud.compute.core.internal.http;

import java.net.URI;

import org.glassfish.jersey.internal.MapPropertiesDelegate;
import org.glassfish.jersey.server.ContainerRequest;

/** Real Jersey request contexts, as the filters see them before routing. */
final class Requests {

    private static final URI BASE = URI.create("http://127.0.0.1:9080/");

    private Requests() {
    }

    /** @param pathAndQuery e.g. {@code /compute/containers?token=abc} */
    static ContainerRequest request(String method, String pathAndQuery) {
        return new ContainerRequest(BASE, BASE.resolve(pathAndQuery), method, null, new MapPropertiesDelegate(), null);
    }
}
