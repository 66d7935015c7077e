package com.ecloud.compute.gateway.internal.proxy;

/** The answer of a {@link RouteResolver}: forward the request, or refuse it. */
public sealed interface Route {
    /** Forward to this backend (an address of this machine, e.g. 127.0.0.1:49153). */
    record Backend(String host, int port) implements Route {}

    /** Answer with this status and a one-line reason (text/plain, ends with \n), e.g. 404 "no container ..." */
    record Refusal(int status, String reason) implements Route {}
}
