package com.ecloud.compute.core.internal.http;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletErrorPage;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletName;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * The servlet whiteboard's error page for every 4xx and 5xx of the default context, which is where the REST
 * whiteboard serves the default application: what would otherwise be an HTML page (a servlet's
 * {@code sendError}, an exception escaping Jersey, a path no servlet serves while the whiteboard reloads) becomes
 * the API's JSON error. Errors Jetty answers before any servlet runs (a malformed request line, oversized
 * headers) never reach it.
 */
@Component(service = Servlet.class)
@HttpWhiteboardServletName(ErrorPageServlet.NAME)
@HttpWhiteboardServletErrorPage(errorPage = { "4xx", "5xx" })
public class ErrorPageServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    static final String NAME = "ecloud-json-error-page";

    /** Servlet 6.1's RequestDispatcher.ERROR_METHOD, which Felix sets; servlet-api 6.0 lacks the constant. */
    static final String ERROR_METHOD = "jakarta.servlet.error.method";

    private static final Logger LOG = LoggerFactory.getLogger(ErrorPageServlet.class);

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
        ApiError error = errorFor(request, response.getStatus());
        if (response.isCommitted()) return;
        response.resetBuffer();
        response.setStatus(error.status());
        // no charset parameter: JSON is UTF-8 (RFC 8259), and the REST responses carry none either
        response.setContentType("application/json");
        byte[] body = error.json().getBytes(StandardCharsets.UTF_8);
        response.setContentLength(body.length);
        if (!"HEAD".equals(request.getMethod())) response.getOutputStream().write(body);
    }

    /** The JSON error for the error dispatch of {@code request}; logs 5xx with their id. */
    static ApiError errorFor(HttpServletRequest request, int responseStatus) {
        Object code = request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE);
        int status = code instanceof Integer i ? i : responseStatus;
        if (status < 400 || status > 599) status = 500;
        if (status >= 500) {
            ApiError error = ApiError.server(status, ApiError.defaultMessage(status));
            Object exception = request.getAttribute(RequestDispatcher.ERROR_EXCEPTION);
            String where = describe(request);
            if (exception instanceof Throwable t) {
                LOG.error("error_id={} {} answered {}", error.errorId(), where, status, t);
            } else {
                LOG.error("error_id={} {} answered {} outside the REST error mapper", error.errorId(), where, status);
            }
            return error;
        }
        if (status == 404) {
            // no servlet name: no servlet matched the path (e.g. while the REST whiteboard reloads); otherwise a
            // servlet or resource answered 404 without a body
            boolean routed = request.getAttribute(RequestDispatcher.ERROR_SERVLET_NAME) != null;
            return ApiError.client(404, routed ? "not found" : "no such route: " + describe(request));
        }
        return ApiError.client(status, ApiError.defaultMessage(status));
    }

    /** Method and path, never the query string (it may hold a token). */
    private static String describe(HttpServletRequest request) {
        Object method = request.getAttribute(ERROR_METHOD);
        Object uri = request.getAttribute(RequestDispatcher.ERROR_REQUEST_URI);
        return (method instanceof String m ? m : request.getMethod()) + " "
                + (uri instanceof String u ? u : request.getRequestURI());
    }
}
