package com.ecloud.compute.core.internal.http;

import java.util.List;
import java.util.Optional;

import com.ecloud.compute.auth.InvalidTokenException;

/**
 * Finds the access token of a request: {@code Authorization: Bearer <token>}, or, when that header is absent, the
 * {@code token} query parameter (browsers cannot set headers on a WebSocket). Used by the REST filter and by the
 * WebSocket servlets alike. Never logs or echoes the token.
 */
public final class BearerToken {

    /** Query parameter carrying the token when no Authorization header can be sent. */
    public static final String QUERY_PARAMETER = "token";

    private static final String SCHEME = "Bearer";

    private BearerToken() {
    }

    /**
     * @param authorization   the values of the Authorization header (null or empty when absent)
     * @param queryParameters the values of the {@code token} query parameter (null or empty when absent)
     * @return the token, or empty when the request carries none at all
     * @throws InvalidTokenException a header of another scheme, a malformed header, an empty token, or more
     *                               than one candidate
     */
    public static Optional<String> extract(List<String> authorization, List<String> queryParameters)
            throws InvalidTokenException {
        if (authorization != null && !authorization.isEmpty()) {
            if (authorization.size() > 1) throw new InvalidTokenException("more than one Authorization header");
            return Optional.of(fromHeader(authorization.get(0)));
        }
        if (queryParameters != null && !queryParameters.isEmpty()) {
            if (queryParameters.size() > 1) throw new InvalidTokenException("more than one token parameter");
            String token = queryParameters.get(0);
            if (token == null || token.isBlank()) throw new InvalidTokenException("empty token parameter");
            return Optional.of(token.strip());
        }
        return Optional.empty();
    }

    private static String fromHeader(String header) throws InvalidTokenException {
        String value = header == null ? "" : header.strip();
        int space = value.indexOf(' ');
        String scheme = space < 0 ? value : value.substring(0, space);
        // the scheme is case-insensitive (RFC 9110 11.1)
        if (!scheme.equalsIgnoreCase(SCHEME)) {
            throw new InvalidTokenException("authorization scheme must be Bearer");
        }
        String token = space < 0 ? "" : value.substring(space + 1).strip();
        if (token.isEmpty()) throw new InvalidTokenException("empty bearer token");
        if (token.indexOf(' ') >= 0 || token.indexOf('\t') >= 0) {
            throw new InvalidTokenException("malformed bearer token");
        }
        return token;
    }
}
