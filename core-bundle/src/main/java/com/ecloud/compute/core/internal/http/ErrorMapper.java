package com.ecloud.compute.core.internal.http;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.UndeclaredThrowableException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

import org.glassfish.jersey.server.ParamException;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ServiceScope;
import org.osgi.service.jakartars.whiteboard.propertytypes.JakartarsExtension;
import org.osgi.service.jakartars.whiteboard.propertytypes.JakartarsMediaType;
import org.osgi.service.jakartars.whiteboard.propertytypes.JakartarsName;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.ecloud.compute.api.runtime.RuntimeNotFoundException;
import com.ecloud.compute.api.runtime.RuntimeRejectedException;
import com.ecloud.compute.api.runtime.RuntimeUnavailableException;
import com.ecloud.compute.api.runtime.RuntimeUnsupportedException;
import com.ecloud.compute.api.store.ConflictException;
import com.ecloud.compute.api.store.LimitExceededException;
import com.ecloud.compute.api.store.StoreUnavailableException;

import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.NotAcceptableException;
import jakarta.ws.rs.NotAllowedException;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.NotSupportedException;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Request;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import jakarta.ws.rs.ext.ExceptionMapper;

/**
 * Turns every exception that reaches Jersey into the API's one error shape, {@code {"error": "..."}}: the
 * resources' {@link ApiException}, Jersey's own {@link WebApplicationException}s (unknown route, wrong method,
 * media types), the typed store and runtime errors, and anything else as a 500 whose id is logged with the stack
 * trace. Responses never carry exception text that the code did not write for the client.
 *
 * <p>Prototype scope: the whiteboard injects the request context proxies into each application's own instance.
 */
@Component(service = ExceptionMapper.class, scope = ServiceScope.PROTOTYPE)
@JakartarsExtension
@JakartarsName(ErrorMapper.NAME)
@JakartarsMediaType(MediaType.APPLICATION_JSON)
public class ErrorMapper implements ExceptionMapper<Throwable> {

    /** Whiteboard name, for resources that want to require this extension. */
    public static final String NAME = "ecloud.errors";

    private static final Logger LOG = LoggerFactory.getLogger(ErrorMapper.class);

    // Jersey injects request-scoped proxies when the whiteboard registers the extension; null in unit tests
    @Context
    private UriInfo uriInfo;
    @Context
    private Request request;

    @Override
    public Response toResponse(Throwable thrown) {
        return classify(thrown, method(), path()).toResponse();
    }

    /**
     * The error answer for {@code thrown}; logs 5xx with their id.
     *
     * @param method the request's method, or null when unknown
     * @param path   the request's path without the query (which may hold a token), or null when unknown
     */
    ApiError classify(Throwable thrown, String method, String path) {
        if (causedBy(thrown, BodyTooLargeException.class)) return ApiError.from(ApiJson.bodyTooLarge());
        Throwable e = unwrap(thrown);
        if (e instanceof ApiException api) return logged(ApiError.from(api), e, false, method, path);
        if (e instanceof WebApplicationException wae) return logged(fromJersey(wae, method, path), e, true, method, path);
        if (e instanceof LimitExceededException || e instanceof ConflictException) {
            return ApiError.client(409, messageOr(e, "conflict"));
        }
        if (e instanceof StoreUnavailableException) {
            return logged(ApiError.server(503, "store unavailable"), e, true, method, path);
        }
        if (e instanceof RuntimeUnavailableException) {
            return logged(ApiError.server(503, "runtime unavailable: " + messageOr(e, "no engine reachable")), e, true,
                    method, path);
        }
        if (e instanceof RuntimeRejectedException) return ApiError.client(422, messageOr(e, "refused by the runtime"));
        // the engine lacks something the store has (an image, a container): the request cannot be carried out as is
        if (e instanceof RuntimeNotFoundException) return ApiError.client(422, messageOr(e, "not found in the runtime"));
        if (e instanceof RuntimeUnsupportedException) {
            return logged(ApiError.server(501, messageOr(e, "not supported by the runtime")), e, true, method, path);
        }
        return logged(ApiError.server(500, "internal error"), e, true, method, path);
    }

    private static ApiError fromJersey(WebApplicationException e, String method, String path) {
        int status = e.getResponse() == null ? 500 : e.getResponse().getStatus();
        if (e instanceof ParamException param) return fromParam(param, status);
        if (e instanceof NotAllowedException) {
            ApiError error = ApiError.client(405, "method not allowed");
            String allow = e.getResponse().getHeaderString(HttpHeaders.ALLOW);
            return allow == null ? error : error.withHeader(HttpHeaders.ALLOW, allow);
        }
        if (e instanceof NotFoundException && isJerseyDefault(e, status)) {
            return ApiError.client(404, method == null || path == null ? "no such route"
                    : "no such route: " + method + " " + path);
        }
        if (e instanceof NotSupportedException) return ApiError.client(415, ApiError.defaultMessage(415));
        if (e instanceof NotAcceptableException) return ApiError.client(406, ApiError.defaultMessage(406));
        if (status >= 500 || status < 400) return ApiError.server(status >= 500 ? status : 500,
                ApiError.defaultMessage(status >= 500 ? status : 500));
        ApiError error = ApiError.client(status,
                isJerseyDefault(e, status) ? ApiError.defaultMessage(status) : e.getMessage());
        String challenge = e.getResponse().getHeaderString(HttpHeaders.WWW_AUTHENTICATE);
        return challenge == null ? error : error.withHeader(HttpHeaders.WWW_AUTHENTICATE, challenge);
    }

    /** Jersey could not convert a parameter: say which; a bad path segment means no such resource. */
    private static ApiError fromParam(ParamException e, int status) {
        String name = e.getParameterName();
        if (e.getParameterType() == PathParam.class) {
            return ApiError.client(404, "no such resource: invalid path parameter '" + name + "'");
        }
        String kind = e.getParameterType() == QueryParam.class ? "query parameter"
                : e.getParameterType() == HeaderParam.class ? "header" : "parameter";
        return ApiError.client(400, "invalid value for " + kind + " '" + name + "'");
    }

    /** Jersey's own exceptions carry "HTTP 404 Not Found"; code that wrote a message for the client did not. */
    private static boolean isJerseyDefault(WebApplicationException e, int status) {
        String message = e.getMessage();
        return message == null || message.isBlank() || message.startsWith("HTTP " + status);
    }

    private static ApiError logged(ApiError error, Throwable e, boolean withStack, String method, String path) {
        if (error.errorId() == null) return error;
        String request = (method == null ? "?" : method) + " " + (path == null ? "?" : path);
        if (error.status() == 500) {
            LOG.error("error_id={} {} answered 500", error.errorId(), request, e);
        } else if (withStack) {
            LOG.warn("error_id={} {} answered {}: {}", error.errorId(), request, error.status(), error.message(), e);
        } else {
            LOG.warn("error_id={} {} answered {}: {}", error.errorId(), request, error.status(), error.message());
        }
        return error;
    }

    private static String messageOr(Throwable e, String fallback) {
        String message = e.getMessage();
        return message == null || message.isBlank() ? fallback : message;
    }

    /** Jersey wraps what resources and providers throw; so do executors and reflection. */
    static Throwable unwrap(Throwable thrown) {
        Throwable e = thrown;
        while (e.getCause() != null && e != e.getCause() && isWrapper(e)) e = e.getCause();
        return e;
    }

    private static boolean isWrapper(Throwable e) {
        return e.getClass().getName().equals("org.glassfish.jersey.server.internal.process.MappableException")
                || e instanceof CompletionException || e instanceof ExecutionException
                || e instanceof InvocationTargetException || e instanceof UndeclaredThrowableException
                || e.getClass() == jakarta.ws.rs.ProcessingException.class;
    }

    private static boolean causedBy(Throwable thrown, Class<? extends Throwable> type) {
        for (Throwable e = thrown; e != null; e = e.getCause() == e ? null : e.getCause()) {
            if (type.isInstance(e)) return true;
        }
        return false;
    }

    private String method() {
        try {
            return request == null ? null : request.getMethod();
        } catch (RuntimeException outsideRequest) {
            return null;
        }
    }

    private String path() {
        try {
            return uriInfo == null ? null : "/" + uriInfo.getPath(false);
        } catch (RuntimeException outsideRequest) {
            return null;
        }
    }
}
