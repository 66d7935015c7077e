package com.ecloud.compute.core.internal.ws;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

import org.eclipse.jetty.ee10.websocket.server.JettyWebSocketCreator;
import org.eclipse.jetty.ee10.websocket.server.JettyWebSocketServerContainer;

import com.ecloud.compute.auth.InvalidTokenException;
import com.ecloud.compute.auth.Principal;
import com.ecloud.compute.auth.TokenVerifier;
import com.ecloud.compute.core.internal.http.ApiError;
import com.ecloud.compute.core.internal.http.BearerToken;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * What every WebSocket endpoint does before it upgrades: find the token (header or {@code ?token=}, the REST
 * filter's rules), verify it, and refuse with a JSON body written directly (so that no error page, and no log,
 * ever sees the query string with the token).
 */
public final class UpgradeRequests {

    private UpgradeRequests() {
    }

    /** The verified caller; empty when a 401 has been sent. */
    public static Optional<Principal> authenticate(HttpServletRequest request, HttpServletResponse response,
            TokenVerifier verifier) throws IOException {
        try {
            Optional<String> token = BearerToken.extract(values(request.getHeaders("Authorization")),
                    params(request, BearerToken.QUERY_PARAMETER));
            if (token.isEmpty()) {
                refuse(response, 401, "missing bearer token", "Bearer");
                return Optional.empty();
            }
            return Optional.of(verifier.verify(token.get()));
        } catch (InvalidTokenException e) {
            String reason = e.getMessage() == null || e.getMessage().isBlank() ? "invalid token" : e.getMessage();
            refuse(response, 401, reason, "Bearer error=\"invalid_token\"");
            return Optional.empty();
        }
    }

    /** Answers without upgrading: {@code {"error": reason}}, with a WWW-Authenticate challenge when given. */
    public static void refuse(HttpServletResponse response, int status, String reason, String challenge)
            throws IOException {
        response.setStatus(status);
        if (challenge != null) response.setHeader("WWW-Authenticate", challenge);
        response.setContentType("application/json");
        byte[] body = ApiError.client(status, reason).json().getBytes(StandardCharsets.UTF_8);
        response.setContentLength(body.length);
        response.getOutputStream().write(body);
    }

    /**
     * Upgrades the request with {@code creator}; when it is no WebSocket handshake (a plain GET), gives back the
     * socket slot with {@code releaseSlot} and answers 400. Returns whether it upgraded.
     */
    public static boolean upgrade(JettyWebSocketServerContainer container, JettyWebSocketCreator creator, HttpServletRequest request,
            HttpServletResponse response, Runnable releaseSlot) throws IOException {
        boolean upgraded = false;
        try {
            upgraded = container.upgrade(creator, request, response);
        } finally {
            if (!upgraded) releaseSlot.run();
        }
        if (!upgraded && !response.isCommitted()) {
            refuse(response, 400, "WebSocket upgrade required", null);
        }
        return upgraded;
    }

    /** Every value of a query parameter. */
    public static List<String> params(HttpServletRequest request, String name) {
        String[] v = request.getParameterValues(name);
        return v == null ? List.of() : List.of(v);
    }

    private static List<String> values(java.util.Enumeration<String> e) {
        return e == null ? List.of() : Collections.list(e);
    }
}
