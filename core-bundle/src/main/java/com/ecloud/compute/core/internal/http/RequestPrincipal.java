package com.ecloud.compute.core.internal.http;

import com.ecloud.compute.auth.Principal;

import jakarta.ws.rs.container.ContainerRequestContext;

/** Where the authentication filter leaves the verified caller for the resources of one request. */
public final class RequestPrincipal {

    /** Request property holding the {@link Principal}. */
    public static final String PROPERTY = "com.ecloud.compute.principal";

    private RequestPrincipal() {
    }

    /** The caller of this request; the filter has refused the request before a resource runs without one. */
    public static Principal of(ContainerRequestContext request) {
        Object p = request.getProperty(PROPERTY);
        if (p instanceof Principal principal) return principal;
        throw new ApiException(401, "missing bearer token");
    }

    /**
     * Checks that the caller may perform {@code action} on {@code resource}.
     *
     * @throws ApiException 403 naming the scope and action needed
     */
    public static Principal require(ContainerRequestContext request, String resource, String action) {
        Principal p = of(request);
        if (!p.permits(resource, action)) {
            throw ApiException.forbidden("token lacks scope " + resource + " with action " + action);
        }
        return p;
    }
}
