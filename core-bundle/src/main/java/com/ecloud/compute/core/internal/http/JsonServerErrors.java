package com.ecloud.compute.core.internal.http;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import org.apache.felix.http.jetty.ConnectorFactory;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.LocalConnector;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;
import org.osgi.service.component.annotations.Component;

import com.fasterxml.jackson.core.io.JsonStringEncoder;

/**
 * Makes Jetty's own refusals JSON too: a malformed request line, an ambiguous URI, headers over the limit are
 * answered by the server-level error handler before any servlet runs, in HTML by default. Felix HTTP gives no
 * other access to its Jetty server than connector factories, so this one installs the handler when Felix asks
 * it for a connector (for every Jetty server it starts, also after a reconfiguration), and returns an in-memory
 * connector that opens no port and takes itself off the server once started: Felix HTTP describes every connector
 * of a restarted server as a network endpoint and fails on any other kind, leaving no HTTP service at all.
 */
@Component(service = ConnectorFactory.class)
public class JsonServerErrors implements ConnectorFactory {

    @Override
    public Connector createConnector(Server server) {
        server.setErrorHandler(new JsonErrorHandler());
        return new SelfRemovingConnector(server);
    }

    /** Felix HTTP adds and starts it; it only leaves again (its job, the error handler, is done). */
    static final class SelfRemovingConnector extends LocalConnector {
        SelfRemovingConnector(Server server) {
            super(server);
        }

        @Override
        protected void doStart() throws Exception {
            super.doStart();
            getServer().removeConnector(this);
        }
    }

    /** Writes {"error": "..."} with the status Jetty chose; never a stack trace. */
    static final class JsonErrorHandler extends ErrorHandler {

        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            int status = response.getStatus() > 0 ? response.getStatus() : HttpStatus.BAD_REQUEST_400;
            Object message = request.getAttribute(ERROR_MESSAGE);
            String text = message instanceof String m && !m.isBlank() ? m : HttpStatus.getMessage(status);
            String body = "{\"error\":\"" + new String(JsonStringEncoder.getInstance().quoteAsString(
                    text.toLowerCase(java.util.Locale.ROOT))) + "\"}";
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
            response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
            response.write(true, ByteBuffer.wrap(body.getBytes(StandardCharsets.UTF_8)), callback);
            return true;
        }
    }
}
