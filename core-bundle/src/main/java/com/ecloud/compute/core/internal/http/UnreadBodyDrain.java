package com.ecloud.compute.core.internal.http;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.jakartars.whiteboard.propertytypes.JakartarsExtension;
import org.osgi.service.jakartars.whiteboard.propertytypes.JakartarsName;

import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerResponseContext;
import jakarta.ws.rs.container.ContainerResponseFilter;

/**
 * Reads to its end any request body that nothing read before the answer is written: the body of a request
 * answered 404, 405 or 415 before its resource method ran, or one sent to an action that takes none. Without
 * this, Jetty may write the answer before the body has arrived and then close the connection, without a
 * {@code Connection: close}, because unread content is left; a client that reuses the kept-alive connection
 * then sees it reset. A body already read costs one read that returns end of stream.
 */
@Component(service = ContainerResponseFilter.class)
@JakartarsExtension
@JakartarsName("ecloud.unread-body-drain")
public class UnreadBodyDrain implements ContainerResponseFilter {

    @Override
    public void filter(ContainerRequestContext request, ContainerResponseContext response) {
        try {
            RequestBodyLimit.drainRefusedBody(request);
        } catch (IllegalStateException e) {
            // the entity stream was read and closed already: nothing left to drain
        }
    }
}
