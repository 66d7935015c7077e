package com.ecloud.compute.core.internal.http;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.jakartars.whiteboard.propertytypes.JakartarsExtension;
import org.osgi.service.jakartars.whiteboard.propertytypes.JakartarsName;

import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerResponseContext;
import jakarta.ws.rs.container.ContainerResponseFilter;
import jakarta.ws.rs.core.HttpHeaders;

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
            drain(request);
        } catch (IllegalStateException e) {
            // the entity stream was read and closed already: nothing left to drain
        }
    }

    /**
     * Reads and discards the body of a request that nothing read (refused with 401 or 413, or answered before its
     * resource ran), up to {@link #DRAIN_LIMIT} bytes: clients that send the whole body before reading the answer (most do, without
     * Expect: 100-continue) then see the refusal, and their kept-alive connection stays usable, instead of a
     * reset. Larger bodies are not read; Jetty closes the connection after the answer.
     */
    static void drain(ContainerRequestContext request) {
        try {
            String length = request.getHeaderString(HttpHeaders.CONTENT_LENGTH);
            if (length != null && Long.parseLong(length.strip()) > DRAIN_LIMIT) return;
            if (!request.hasEntity()) return;
            java.io.InputStream in = request.getEntityStream();
            byte[] buffer = new byte[64 * 1024];
            long total = 0;
            for (int n; total <= DRAIN_LIMIT && (n = in.read(buffer)) > 0; ) total += n;
        } catch (NumberFormatException | java.io.IOException e) {
            // nothing more to do: the request is refused either way
        }
    }

    /** Largest refused body that is still read to its end before answering. */
    static final long DRAIN_LIMIT = 16L << 20;
}
