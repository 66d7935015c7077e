package com.ecloud.compute.core.internal.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

class ErrorPageServletTest {

    /** An error dispatch as Felix makes it: attributes on the original request. */
    private static HttpServletRequest errorDispatch(int status, String method, String uri, Throwable exception) {
        Map<String, Object> attributes = new HashMap<>();
        attributes.put(RequestDispatcher.ERROR_STATUS_CODE, status);
        attributes.put(RequestDispatcher.ERROR_REQUEST_URI, uri);
        attributes.put(ErrorPageServlet.ERROR_METHOD, method);
        attributes.put("jakarta.servlet.error.query_string", "token=secret.token.value");
        if (exception != null) attributes.put(RequestDispatcher.ERROR_EXCEPTION, exception);
        return (HttpServletRequest) Proxy.newProxyInstance(ErrorPageServletTest.class.getClassLoader(),
                new Class<?>[] { HttpServletRequest.class }, (proxy, m, args) -> switch (m.getName()) {
                    case "getAttribute" -> attributes.get(args[0]);
                    case "getMethod" -> method;
                    case "getRequestURI" -> uri;
                    default -> null;
                });
    }

    /** Records what the servlet writes. */
    private static final class Recorded {
        final Map<String, Object> state = new HashMap<>();
        final ByteArrayOutputStream body = new ByteArrayOutputStream();

        HttpServletResponse response(int initialStatus) {
            state.put("status", initialStatus);
            ServletOutputStream out = new ServletOutputStream() {
                @Override
                public boolean isReady() {
                    return true;
                }

                @Override
                public void setWriteListener(WriteListener listener) {
                }

                @Override
                public void write(int b) {
                    body.write(b);
                }
            };
            return (HttpServletResponse) Proxy.newProxyInstance(ErrorPageServletTest.class.getClassLoader(),
                    new Class<?>[] { HttpServletResponse.class }, (proxy, m, args) -> switch (m.getName()) {
                        case "setStatus" -> state.put("status", args[0]) == null ? null : null;
                        case "getStatus" -> state.get("status");
                        case "setContentType" -> state.put("type", args[0]) == null ? null : null;
                        case "isCommitted" -> false;
                        case "getOutputStream" -> out;
                        default -> null;
                    });
        }
    }

    private static Recorded serve(HttpServletRequest request, int status) throws IOException {
        Recorded recorded = new Recorded();
        new ErrorPageServlet().service(request, recorded.response(status));
        return recorded;
    }

    @Test
    void aPathNoServletServesIsAJson404() throws IOException {
        Recorded r = serve(errorDispatch(404, "GET", "/nothing/here", null), 404);
        assertEquals(404, r.state.get("status"));
        assertEquals("application/json", r.state.get("type"));
        assertEquals("{\"error\":\"no such route: GET /nothing/here\"}", r.body.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aBodiless404FromAServletIsNotFound() {
        HttpServletRequest request = errorDispatch(404, "GET", "/compute/x", null);
        HttpServletRequest routed = (HttpServletRequest) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] { HttpServletRequest.class }, (proxy, m, args) ->
                        m.getName().equals("getAttribute") && RequestDispatcher.ERROR_SERVLET_NAME.equals(args[0])
                                ? "jersey" : m.invoke(request, args));
        assertEquals("{\"error\":\"not found\"}", ErrorPageServlet.errorFor(routed, 404).json());
    }

    @Test
    void clientErrorsGetTheirOwnWords() {
        assertEquals("method not allowed", ErrorPageServlet.errorFor(errorDispatch(405, "PUT", "/x", null), 405).message());
        assertEquals("request header fields too large",
                ErrorPageServlet.errorFor(errorDispatch(431, "GET", "/x", null), 431).message());
        assertEquals("bad request", ErrorPageServlet.errorFor(errorDispatch(400, "GET", "/x", null), 400).message());
    }

    @Test
    void anExceptionEscapingJerseyIsA500WithIdOnly() throws IOException {
        Recorded r = serve(errorDispatch(500, "POST", "/compute/containers", new IllegalStateException("secret")),
                500);
        String body = r.body.toString(StandardCharsets.UTF_8);
        assertEquals(500, r.state.get("status"));
        assertTrue(body.matches("\\{\"error\":\"internal error\",\"error_id\":\"[a-z0-9]{12}\"\\}"), body);
    }

    @Test
    void neverEchoesTheQueryString() throws IOException {
        for (int status : new int[] { 400, 404, 500 }) {
            Recorded r = serve(errorDispatch(status, "GET", "/compute/x", null), status);
            assertTrue(!r.body.toString(StandardCharsets.UTF_8).contains("secret"));
        }
    }
}
