package com.ecloud.compute.core.internal.http;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.jakartars.whiteboard.propertytypes.JakartarsExtension;
import org.osgi.service.jakartars.whiteboard.propertytypes.JakartarsName;

import jakarta.annotation.Priority;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.container.PreMatching;
import jakarta.ws.rs.core.HttpHeaders;

/**
 * Refuses request bodies over {@link ApiJson#MAX_BODY_BYTES} with 413: at once when Content-Length says so, and
 * while the body is read when it is chunked (the entity stream counts). Runs right after authentication, so
 * that an unauthenticated caller gets 401 whatever it sends.
 */
@Component(service = ContainerRequestFilter.class)
@JakartarsExtension
@JakartarsName(RequestBodyLimit.NAME)
@PreMatching
@Priority(Priorities.AUTHENTICATION + 100)
public class RequestBodyLimit implements ContainerRequestFilter {

    /** Whiteboard name, for resources that want to require this extension. */
    public static final String NAME = "ecloud.body-limit";

    @Override
    public void filter(ContainerRequestContext request) {
        String length = request.getHeaderString(HttpHeaders.CONTENT_LENGTH);
        if (length != null && exceeds(length.strip())) {
            request.abortWith(ApiError.from(ApiJson.bodyTooLarge()).toResponse());
            return;
        }
        request.setEntityStream(new LimitedInputStream(request.getEntityStream(), ApiJson.MAX_BODY_BYTES));
    }

    private static boolean exceeds(String length) {
        try {
            return Long.parseLong(length) > ApiJson.MAX_BODY_BYTES;
        } catch (NumberFormatException e) {
            // longer than a long, or not a number (Jetty refuses those before we see them)
            return !length.isEmpty() && length.chars().allMatch(Character::isDigit);
        }
    }
}
