package com.ecloud.compute.core.internal.http;

import java.util.Optional;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.jakartars.whiteboard.propertytypes.JakartarsExtension;
import org.osgi.service.jakartars.whiteboard.propertytypes.JakartarsName;

import com.ecloud.compute.auth.InvalidTokenException;
import com.ecloud.compute.auth.TokenVerifier;

import jakarta.annotation.Priority;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.container.PreMatching;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.UriInfo;

/**
 * Authenticates every REST request except the health probes ({@link PublicPaths}): a valid token leaves its
 * {@link com.ecloud.compute.auth.Principal} in the request property {@link RequestPrincipal#PROPERTY}; anything
 * else is answered 401 with a {@code WWW-Authenticate: Bearer} challenge before routing, so an unauthenticated
 * caller learns nothing about which routes exist. Scopes (403) are checked by the resources.
 */
@Component(service = ContainerRequestFilter.class)
@JakartarsExtension
@JakartarsName(AuthenticationFilter.NAME)
@PreMatching
@Priority(Priorities.AUTHENTICATION)
public class AuthenticationFilter implements ContainerRequestFilter {

    /** Whiteboard name, for resources that want to require this extension. */
    public static final String NAME = "ecloud.authentication";

    /** RFC 6750 3.1: no error code when the request carried no credentials at all. */
    static final String CHALLENGE_MISSING = "Bearer";
    static final String CHALLENGE_INVALID = "Bearer error=\"invalid_token\"";

    private final TokenVerifier verifier;

    @Activate
    public AuthenticationFilter(@Reference TokenVerifier verifier) {
        this.verifier = verifier;
    }

    @Override
    public void filter(ContainerRequestContext request) {
        UriInfo uri = request.getUriInfo();
        if (PublicPaths.isPublic(uri.getPathSegments(false))) return;
        try {
            Optional<String> token = BearerToken.extract(request.getHeaders().get(HttpHeaders.AUTHORIZATION),
                    uri.getQueryParameters().get(BearerToken.QUERY_PARAMETER));
            if (token.isEmpty()) {
                request.abortWith(ApiError.client(401, "missing bearer token")
                        .withHeader(HttpHeaders.WWW_AUTHENTICATE, CHALLENGE_MISSING).toResponse());
                return;
            }
            request.setProperty(RequestPrincipal.PROPERTY, verifier.verify(token.get()));
        } catch (InvalidTokenException e) {
            String reason = e.getMessage() == null || e.getMessage().isBlank() ? "invalid token" : e.getMessage();
            request.abortWith(ApiError.client(401, reason)
                    .withHeader(HttpHeaders.WWW_AUTHENTICATE, CHALLENGE_INVALID).toResponse());
        }
    }
}
